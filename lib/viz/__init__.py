"""What the chapters draw and the widgets they show.

- :mod:`~ctxembed.viz.plots`      similarity heatmaps, sense scatter plots, similarity bars
- :mod:`~ctxembed.viz.explorers`  ipywidgets explorers that also work on the static site
                                  (views precomputed and switched in the page)
- :mod:`~ctxembed.viz.html`       the HTML views (tables, the self-check), rendered from Jinja templates
                                  that escape every value they insert
- :mod:`~ctxembed.viz.alt`        alt text generated from what a figure shows; in a notebook,
                                  every figure displayed carries it (``import ctxembed`` sets it up)
"""
