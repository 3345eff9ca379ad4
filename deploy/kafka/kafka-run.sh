#!/usr/bin/env bash
# Runs Apache Kafka from the jars that pom.xml collects into libs/ (no Kafka tarball needed).
#
#   kafka-run.sh jars                        collect the jars with Maven, unless already there
#   kafka-run.sh format CLUSTER_ID CONFIG [OPTION ...]
#                                            format the log dirs of CONFIG once (idempotent);
#                                            OPTIONs go to the storage tool (--add-scram ...)
#   kafka-run.sh start CONFIG                run the broker in the foreground; SIGTERM stops it
#
# Environment: JAVA_HOME (else `java` on PATH), KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m),
# KAFKA_LIBS_DIR (default: libs/ beside this script).
# `python -m codeflow_infra up` drives this script; it renders CONFIG from
# server.properties.template.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libs="${KAFKA_LIBS_DIR:-$here/libs}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

have_jars() {
    compgen -G "$libs/kafka_2.13-*.jar" > /dev/null
}

need_jars() {
    have_jars || {
        echo "no Kafka jars in $libs; run: $0 jars" >&2
        exit 1
    }
}

case "${1:-}" in
    jars)
        if have_jars; then
            echo "Kafka jars already in $libs" >&2
        else
            mvn -B -q -f "$here/pom.xml" -Dkafka.libs.dir="$libs" package
            echo "Kafka jars collected in $libs" >&2
        fi
        ;;
    format)
        [ $# -ge 3 ] || usage
        need_jars
        exec "$java" -cp "$libs/*" kafka.tools.StorageTool format --standalone \
            -t "$2" -c "$3" --ignore-formatted "${@:4}"
        ;;
    start)
        [ $# -eq 2 ] || usage
        need_jars
        # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
        exec "$java" ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} \
            -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
            -Djava.awt.headless=true \
            -Dorg.slf4j.simpleLogger.showDateTime=true \
            -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSS" \
            -cp "$libs/*" kafka.Kafka "$2"
        ;;
    *)
        usage
        ;;
esac
