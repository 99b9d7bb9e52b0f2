"""A speaker embedding ("voiceprint") for the app's associate stage: which track a stretch of separated speech belongs to.

The separator is permutation-invariant over a few seconds; across turns it has no notion of who is who (training.meetings:
people taking turns share a track). A voiceprint per stretch of each speaker output lets the associate stage route
each stretch to the track of the voice it matches.
"""
