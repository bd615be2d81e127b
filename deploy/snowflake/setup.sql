-- f1pipe's Snowflake side, run once by an ACCOUNTADMIN (Snowsight worksheet or SnowSQL):
-- a database and schema, a warehouse, a role and a key-pair user for the loader, a storage
-- integration trusting an AWS role on the lake bucket, the external stage and file formats the
-- loader uses, and (optional, at the end) a Snowpipe auto-ingest alternative to its COPY.
-- Replace the four <...> values; docs/deploy.md walks through the AWS side.
-- f1pipe settings afterwards:
--   F1PIPE_WAREHOUSE=snowflake  SNOWFLAKE_ACCOUNT=<orgname-account>  SNOWFLAKE_USER=F1PIPE_LOADER
--   SNOWFLAKE_PRIVATE_KEY_PATH=/etc/f1pipe/snowflake_key.p8  SNOWFLAKE_ROLE=F1PIPE_LOADER
--   SNOWFLAKE_WAREHOUSE=F1_WH  SNOWFLAKE_DATABASE=F1  SNOWFLAKE_SCHEMA=PUBLIC
--   SNOWFLAKE_STORAGE_INTEGRATION=F1_LAKE

USE ROLE ACCOUNTADMIN;

-- Where the data lives, and the compute that loads it (XSMALL, suspended after 60 s idle).
CREATE DATABASE IF NOT EXISTS F1;
CREATE SCHEMA IF NOT EXISTS F1.PUBLIC;
CREATE WAREHOUSE IF NOT EXISTS F1_WH
  WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;

-- The lake bucket, read through an AWS role Snowflake assumes (no keys in Snowflake).
-- After this statement: DESC INTEGRATION F1_LAKE; put its STORAGE_AWS_IAM_USER_ARN and
-- STORAGE_AWS_EXTERNAL_ID into <aws-role-arn>'s trust policy (docs/deploy.md, step B4).
CREATE STORAGE INTEGRATION IF NOT EXISTS F1_LAKE
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = '<aws-role-arn>'
  STORAGE_ALLOWED_LOCATIONS = ('s3://<lake-bucket>/lake/');

-- The loader: a role owning the schema's tables, a user logging in with a key pair only.
-- Public key: openssl rsa -in snowflake_key.p8 -pubout (the base64 lines, without headers).
CREATE ROLE IF NOT EXISTS F1PIPE_LOADER;
GRANT USAGE ON WAREHOUSE F1_WH TO ROLE F1PIPE_LOADER;
GRANT USAGE ON DATABASE F1 TO ROLE F1PIPE_LOADER;
GRANT USAGE, CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE FILE FORMAT, CREATE PIPE
  ON SCHEMA F1.PUBLIC TO ROLE F1PIPE_LOADER;
GRANT USAGE ON INTEGRATION F1_LAKE TO ROLE F1PIPE_LOADER;
CREATE USER IF NOT EXISTS F1PIPE_LOADER
  TYPE = SERVICE
  DEFAULT_ROLE = F1PIPE_LOADER
  DEFAULT_WAREHOUSE = F1_WH
  DEFAULT_NAMESPACE = F1.PUBLIC
  RSA_PUBLIC_KEY = '<public-key-base64>';
GRANT ROLE F1PIPE_LOADER TO USER F1PIPE_LOADER;

-- What the loader creates itself on first run (f1pipe/warehouse/snowflake/sql.py), created
-- here too so that a Snowpipe can use them before the first load.
USE ROLE F1PIPE_LOADER;
USE SCHEMA F1.PUBLIC;
-- (tests/deploy/snowflake checks these names against the loader's.)
CREATE FILE FORMAT IF NOT EXISTS F1PIPE_JSON TYPE = JSON;
CREATE FILE FORMAT IF NOT EXISTS F1PIPE_PARQUET TYPE = PARQUET;
CREATE STAGE IF NOT EXISTS F1PIPE_LAKE_S3
  URL = 's3://<lake-bucket>/lake/'
  STORAGE_INTEGRATION = F1_LAKE;

-- Check: lists the lake's objects once the AWS trust policy is in place.
LIST @F1PIPE_LAKE_S3;

-- Optional: Snowpipe auto-ingest of the raw results objects, instead of `f1pipe load`'s
-- COPY (the loader stays the one that merges into the model tables and writes rejects).
-- After it: SHOW PIPES; point an S3 event notification (s3:ObjectCreated:*, prefix
-- lake/f1_race_data/: the results topic, KAFKA_TOPIC) at the pipe's notification_channel
-- SQS queue (docs/deploy.md, step B5).
CREATE TABLE IF NOT EXISTS RAW_RESULTS_PIPE (RECORD VARIANT, FILE_NAME STRING,
  LOADED_AT TIMESTAMP_LTZ DEFAULT CURRENT_TIMESTAMP());
CREATE PIPE IF NOT EXISTS F1PIPE_RESULTS_PIPE AUTO_INGEST = TRUE AS
  COPY INTO RAW_RESULTS_PIPE (RECORD, FILE_NAME)
  FROM (SELECT $1, METADATA$FILENAME FROM @F1PIPE_LAKE_S3/f1_race_data/)
  FILE_FORMAT = (FORMAT_NAME = 'F1PIPE_JSON');
