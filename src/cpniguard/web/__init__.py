"""The staff console (at /) and the customer portal (at /portal): server-rendered Jinja2 pages
in English and German over the same service functions as the API and the CLI."""
