"""Several images and large images: image naming, order probe, merged canvas, step by step, tiles."""
