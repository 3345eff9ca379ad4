-- One role and one database per service, each database owned by its role alone: the
-- services never connect as the superuser, and none can reach another's database. Run by
-- the postgres image on its first start (empty volume), with psql; each role's password
-- comes from the container's CODEFLOW_<SERVICE>_PASSWORD (postgres.development.env).

\getenv auth_password CODEFLOW_AUTH_PASSWORD
CREATE ROLE codeflow_auth LOGIN PASSWORD :'auth_password';
CREATE DATABASE codeflow_auth OWNER codeflow_auth;
REVOKE ALL ON DATABASE codeflow_auth FROM PUBLIC;

\getenv profiles_password CODEFLOW_PROFILES_PASSWORD
CREATE ROLE codeflow_profiles LOGIN PASSWORD :'profiles_password';
CREATE DATABASE codeflow_profiles OWNER codeflow_profiles;
REVOKE ALL ON DATABASE codeflow_profiles FROM PUBLIC;

\getenv repositories_password CODEFLOW_REPOSITORIES_PASSWORD
CREATE ROLE codeflow_repositories LOGIN PASSWORD :'repositories_password';
CREATE DATABASE codeflow_repositories OWNER codeflow_repositories;
REVOKE ALL ON DATABASE codeflow_repositories FROM PUBLIC;

\getenv janitor_password CODEFLOW_JANITOR_PASSWORD
CREATE ROLE codeflow_janitor LOGIN PASSWORD :'janitor_password';
CREATE DATABASE codeflow_janitor OWNER codeflow_janitor;
REVOKE ALL ON DATABASE codeflow_janitor FROM PUBLIC;
