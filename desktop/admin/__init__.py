"""The page machinery: pages declared as lists, details, inline lists, fields and actions."""
