"""From simulated stays to KPIs, daily tables, files and charts."""
