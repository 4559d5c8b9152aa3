"""The promoters' kit pages: one unlisted page per promoter, planned like the shop's own pages.

A kit page is for its promoter only. It is not in the sitemap, the search index or the feeds
(those list the shop's public pages by name), nothing public links to it, and it asks search
engines not to index it (`page.kind == "kit"`: base.html adds the robots tag).
"""

from __future__ import annotations

from collections.abc import Callable

from .i18n import Text
from .model import PromoterKit, ShareImage, Site
from .render import PageMeta, PageSpec, absolute, output_path


def plan_kit_pages(
    site: Site, kits: list[PromoterKit], share_image: Callable[[str], ShareImage], text: Text
) -> list[PageSpec]:
    """A page per kit, at its promoter's kit URL; its title and description in the shop's language."""
    _ = text
    pages = []
    for kit in kits:
        url = kit.promoter.kit_url
        name, shop = kit.promoter.name, site.config.title
        title = _("Share kit for %(name)s", name=name)
        description = _("%(name)s's links and posters for %(shop)s.", name=name, shop=shop)
        meta = PageMeta("kit", title, description, url, absolute(site, url), "", share_image(""))
        pages.append(PageSpec("kit.html", meta, output_path(url), {"kit": kit}))
    return pages


def kit_links(site: Site) -> list[tuple[str, str, str]]:
    """(code, name, absolute kit URL) of every promoter, for the build to tell the shop owner."""
    return [(p.code, p.name, absolute(site, p.kit_url)) for p in site.promoters if p.kit_url]
