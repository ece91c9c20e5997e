"""Channel adapters: one per messaging platform, all behind `ChannelAdapter`."""
