"""Weekly reliability digests and incident postmortems.

Gathering (``gather``) is the only part that reads the store; the content
(``content`` and the section modules) is a pure function of plain data; charts
and templates turn that content into PNGs, Block Kit and HTML; ``publish`` posts
and writes it, once per team and ISO week.
"""
