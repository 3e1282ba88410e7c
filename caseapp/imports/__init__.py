"""Bulk import of the spreadsheets teams already keep (XLSX, CSV): mapping, dry run, import, rollback."""
