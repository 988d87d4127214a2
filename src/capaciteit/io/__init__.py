"""Reading region models and scenario files from disk (YAML + CSV/xlsx tables)."""
