SELECT format('CREATE ROLE %I LOGIN', 'harbor') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'harbor')\gexec
ALTER ROLE harbor WITH LOGIN PASSWORD 'it''s';
SELECT format('CREATE DATABASE %I OWNER %I', 'registry', 'harbor') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'registry')\gexec
ALTER DATABASE registry OWNER TO harbor;
