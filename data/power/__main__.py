"""`python -m data.power <city>`: rebuild a city's electricity network (see `data.power.files`)."""

from data.power.files import main

main()
