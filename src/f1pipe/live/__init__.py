"""The real-time domain: replay and the live feed to Kafka, the timing state and tower,
the streaming landing (lake + warehouse) and its latency measurement."""
