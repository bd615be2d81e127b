"""Sources: FastF1 data turned into schema messages (extract stage)."""
