"""The seed catalog: ``schema`` (the YAML format, validated by pydantic), ``checks`` (what spans
files: keys resolve, citations exist in the source texts, own words), ``restatements`` (near-duplicate
recommendations must be cross-referenced or declared different), ``loader`` (loading it into a
store through the write path) and ``synthetic`` (the generated stores of ``rectrack demo``).

May import: ``models.store``, ``models.trail``, ``models.rules``.
"""
