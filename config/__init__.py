"""Typed configuration: params.yaml (`config.params`)."""
