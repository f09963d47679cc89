"""Water what-ifs on EPANET (WNTR): pipe breaks and pressure management."""
