"""Receipt scanning: photographed receipts read, checked and turned into points."""
