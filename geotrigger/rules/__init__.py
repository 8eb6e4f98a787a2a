"""Rules (moments) as marketers write them: the YAML format, compiled to typed specs."""
