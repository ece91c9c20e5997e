"""Printable QR posters for village, community and service-hall notice boards (work-plan item 49).

A poster is a relay node of the last mile: each scan of its signed short link is a hop
("poster scan") credited to the policy and the place, and a subscription or consultation
started from it is credited to the poster.
"""
