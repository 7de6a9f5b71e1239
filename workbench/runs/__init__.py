"""Grounding runs: one pipeline from a request to parsed detections, streamed for a page, stored on dataset items."""
