"""Right of access: subject access requests and verified erasure. This package sits on the
judging side (it reads the corpus truth to know every record about a subject); the searches it
issues go through profiles and backends, which never see the truth."""
