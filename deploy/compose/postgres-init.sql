-- One role and one database per service, each database owned by its role alone: the
-- services never connect as the superuser, and none can reach another's database. Run by
-- the postgres image on its first start (empty volume), with psql; each role's password
-- comes from the container's CODEFLOW_<SERVICE>_PASSWORD (postgres.development.env).
\getenv auth_password CODEFLOW_AUTH_PASSWORD
\getenv profiles_password CODEFLOW_PROFILES_PASSWORD
\getenv repositories_password CODEFLOW_REPOSITORIES_PASSWORD
\getenv janitor_password CODEFLOW_JANITOR_PASSWORD

CREATE TEMPORARY TABLE codeflow_services (service text, password text);
INSERT INTO codeflow_services VALUES
    ('auth', :'auth_password'),
    ('profiles', :'profiles_password'),
    ('repositories', :'repositories_password'),
    ('janitor', :'janitor_password');

-- Each statement on its own (\gexec): CREATE DATABASE can't run in a transaction.
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', 'codeflow_' || service, password)
  FROM codeflow_services \gexec
SELECT format('CREATE DATABASE %I OWNER %I', 'codeflow_' || service, 'codeflow_' || service)
  FROM codeflow_services \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', 'codeflow_' || service)
  FROM codeflow_services \gexec
