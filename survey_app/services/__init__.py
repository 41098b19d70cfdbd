"""Service functions: validated data in, database changes out; the caller commits."""
