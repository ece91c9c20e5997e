"""Read-aloud (播报, work-plan item 32): a policy's key points as a voice message for those who
prefer to listen. Made once per policy revision and format, cached on disk, reused for every
recipient (the Telegram file id too); pluggable speech engines, espeak-ng by default.
"""
