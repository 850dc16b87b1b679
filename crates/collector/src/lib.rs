//! hlaudit collector: lists every HealthLake FHIR data store across regions and accounts through the AWS SDK.
