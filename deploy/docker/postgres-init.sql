-- One database per service (docs/architecture.md), the same names the `cpd` command creates.
-- The postgres image runs this once, when its data volume is first initialised; each service's
-- migrate container then creates the tables.
CREATE DATABASE cpd_gateway;
CREATE DATABASE cpd_audit;
CREATE DATABASE cpd_lessonstudy;
CREATE DATABASE cpd_evaluation;
