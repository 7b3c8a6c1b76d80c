"""The ledger's history as a static web page: one pass over the entries, then the page's files."""

from provenance.site.build import SiteSummary, build_site

__all__ = ["SiteSummary", "build_site"]
