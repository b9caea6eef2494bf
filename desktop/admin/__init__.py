"""The declarative page machinery: pages described by their columns, fields and actions."""
