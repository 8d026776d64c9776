"""The engine's one upsert makes rows equal to given instances: single and composite keys, in batches."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from migration import db
from tests.chinook.models import Album, Artist, Genre, MediaType, Playlist, PlaylistTrack, Track

# The Chinook tables exist on the PostgreSQL alias only (the SQLite alias holds the Procheff schema).
pytestmark = pytest.mark.django_db(databases=["default"])
USING = "default"


def track(track_id: int, name: str, price: str) -> Track:
    return Track(track_id=track_id, name=name, album_id=1, media_type_id=1, genre_id=None, composer=None,
                 milliseconds=1000, bytes=None, unit_price=Decimal(price))


def parents() -> None:
    db.upsert(Artist, [Artist(artist_id=1, name="Artist")], USING)
    db.upsert(Album, [Album(album_id=1, title="Album", artist_id=1)], USING)
    db.upsert(MediaType, [MediaType(media_type_id=1, name="MPEG")], USING)
    db.upsert(Genre, [Genre(genre_id=1, name="Rock")], USING)
    db.upsert(Playlist, [Playlist(playlist_id=1, name="Music")], USING)


def test_upsert_inserts_new_rows_and_overwrites_every_column_of_existing_ones() -> None:
    parents()
    db.upsert(Track, [track(1, "One", "0.99"), track(2, "Two", "0.99")], USING)
    changed = track(1, "One (live)", "1.29")
    changed.genre_id = 1
    db.upsert(Track, [changed, track(3, "Three", "0.49")], USING)
    rows = Track.objects.using(USING).order_by("pk").values_list("track_id", "name", "genre_id", "unit_price")
    assert list(rows) == [(1, "One (live)", 1, Decimal("1.29")), (2, "Two", None, Decimal("0.99")),
                          (3, "Three", None, Decimal("0.49"))]


def test_upsert_keys_a_composite_primary_key_by_its_columns() -> None:
    parents()
    db.upsert(Track, [track(1, "One", "0.99"), track(2, "Two", "0.99")], USING)
    db.upsert(PlaylistTrack, [PlaylistTrack(playlist_id=1, track_id=1)], USING)
    db.upsert(PlaylistTrack, [PlaylistTrack(playlist_id=1, track_id=1), PlaylistTrack(playlist_id=1, track_id=2)],
              USING)
    assert sorted(PlaylistTrack.objects.using(USING).values_list("playlist_id", "track_id")) == [(1, 1), (1, 2)]


def test_upsert_writes_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "UPSERT_ROWS", 2)
    parents()
    with CaptureQueriesContext(connections[USING]) as queries:
        db.upsert(Track, [track(i, f"Track {i}", "0.99") for i in range(1, 6)], USING)
    assert len(queries) == 3
    assert Track.objects.using(USING).count() == 5
