"""hzflow: the usage-metrics pipeline for HUBzero science gateways."""
