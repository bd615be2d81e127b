"""Local stack: the project-run Apache Kafka broker."""
