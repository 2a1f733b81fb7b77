"""When each Lambda runtime is (or was) deprecated, as AWS documents it.

Source: AWS Lambda Developer Guide, "Lambda runtimes", the supported and deprecated runtime tables
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), the "Deprecation date"
column (the day Lambda stops security patches; blocking creates and updates follows later).
Recorded 2026-12-01. AWS moves projected dates; update this table when it does.
"""

from __future__ import annotations

from datetime import date, timedelta

TABLE_RECORDED = date(2026, 12, 1)
SOON_DAYS = 180  # a runtime this close to its deprecation date is reported before it arrives

DEPRECATION_DATES: dict[str, date] = {
    # supported on 2026-12-01, with their projected deprecation dates
    "nodejs24.x": date(2028, 4, 30),
    "nodejs22.x": date(2027, 4, 30),
    "python3.14": date(2029, 6, 30),
    "python3.13": date(2029, 6, 30),
    "python3.12": date(2028, 10, 31),
    "java25": date(2029, 6, 30),
    "java21": date(2029, 6, 30),
    "dotnet10": date(2028, 11, 14),
    "ruby3.4": date(2028, 3, 31),
    "ruby3.3": date(2027, 3, 31),
    "provided.al2023": date(2029, 6, 30),
    # deprecated by 2026-12-01
    "dotnet8": date(2026, 11, 10),
    "python3.11": date(2026, 6, 30),
    "python3.10": date(2026, 6, 30),
    "java17": date(2026, 6, 30),
    "java11": date(2026, 6, 30),
    "java8.al2": date(2026, 6, 30),
    "provided.al2": date(2026, 6, 30),
    "nodejs20.x": date(2026, 4, 30),
    "ruby3.2": date(2026, 3, 31),
    "python3.9": date(2025, 12, 15),
    "nodejs18.x": date(2025, 9, 1),
    "dotnet6": date(2024, 11, 12),
    "python3.8": date(2024, 10, 14),
    "nodejs16.x": date(2024, 6, 12),
    "dotnet7": date(2024, 5, 14),
    "java8": date(2024, 1, 8),
    "go1.x": date(2024, 1, 8),
    "provided": date(2024, 1, 8),
    "nodejs14.x": date(2023, 12, 4),
    "python3.7": date(2023, 12, 4),
    "ruby2.7": date(2023, 11, 27),
    "dotnetcore3.1": date(2023, 4, 3),
    "nodejs12.x": date(2023, 3, 31),
    "python3.6": date(2022, 7, 18),
    "dotnet5.0": date(2022, 5, 10),
    "dotnetcore2.1": date(2022, 1, 5),
    "nodejs10.x": date(2021, 7, 30),
    "ruby2.5": date(2021, 7, 30),
    "python2.7": date(2021, 7, 15),
    "nodejs8.10": date(2020, 3, 6),
    "nodejs4.3": date(2020, 3, 5),
    "nodejs4.3-edge": date(2020, 3, 5),
    "nodejs6.10": date(2019, 8, 12),
    "dotnetcore1.0": date(2019, 7, 27),
    "dotnetcore2.0": date(2019, 5, 30),
    "nodejs": date(2016, 10, 31),
}


def deprecation(runtime: str, today: date) -> tuple[date, bool] | None:
    """(deprecation date, already past) when `runtime` is deprecated or within SOON_DAYS of it; else None.

    A container image (no runtime) or a runtime this table does not know is not reported.
    """
    when = DEPRECATION_DATES.get(runtime)
    if when is None or when - today > timedelta(days=SOON_DAYS):
        return None
    return when, when <= today
