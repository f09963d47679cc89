"""Public-lighting what-ifs: LED retrofit, dimming, switching; their plans and playback frames."""
