"""Kafka plumbing: one producer, the lake consumer and its checkpoint, dead letters, topics.

Depends only on config, errors, schemas, the dataset registry and the lake; never on the
warehouse or the live domain.
"""
