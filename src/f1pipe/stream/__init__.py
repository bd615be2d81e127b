"""Stream: Kafka producer, consumer, topics, dead letters, checkpoints."""
