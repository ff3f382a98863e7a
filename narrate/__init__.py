"""Narrate photos and videos with a trained narrator, and publish it (issue 6)."""
