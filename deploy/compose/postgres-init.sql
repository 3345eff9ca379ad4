-- One database per service. Run by the postgres image on its first start (empty volume).
CREATE DATABASE codeflow_auth;
CREATE DATABASE codeflow_profiles;
CREATE DATABASE codeflow_repositories;
CREATE DATABASE codeflow_janitor;
