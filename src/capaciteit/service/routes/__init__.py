"""Thin routers: check the caller, parse the request, call the service, shape the answer."""
