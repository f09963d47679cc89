"""The water network: layout under the streets, its EPANET model and its calibration."""
