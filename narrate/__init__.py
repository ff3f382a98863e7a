"""Narrate photos and videos with a trained narrator, and publish it."""
