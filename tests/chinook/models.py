"""The Chinook sample database (shared/datasets/chinook.sqlite), from ``inspectdb``, tidied.

Tidied from the generated models: readable field names (columns kept via ``db_column``), NUMERIC
money as ``DecimalField(10, 2)`` instead of a guessed ``TextField``, ``DATETIME`` text read as
aware ``DateTimeField`` values (SQLite's ``'YYYY-MM-DD HH:MM:SS'``, taken as UTC), NVARCHAR(n) as
``CharField(max_length=n)``, and ``PlaylistTrack``'s two-column key as a ``CompositePrimaryKey``.
The tables are managed so the test database gets them; nothing here is specific to the engine.
"""
from __future__ import annotations

from django.db import models


class Artist(models.Model):
    artist_id = models.AutoField(db_column="ArtistId", primary_key=True)
    name = models.CharField(db_column="Name", max_length=120, null=True, blank=True)

    class Meta:
        db_table = "Artist"

    def __str__(self) -> str:
        return str(self.name)


class Album(models.Model):
    album_id = models.AutoField(db_column="AlbumId", primary_key=True)
    title = models.CharField(db_column="Title", max_length=160)
    artist = models.ForeignKey(Artist, models.DO_NOTHING, db_column="ArtistId")

    class Meta:
        db_table = "Album"

    def __str__(self) -> str:
        return self.title


class Employee(models.Model):
    employee_id = models.AutoField(db_column="EmployeeId", primary_key=True)
    last_name = models.CharField(db_column="LastName", max_length=20)
    first_name = models.CharField(db_column="FirstName", max_length=20)
    title = models.CharField(db_column="Title", max_length=30, null=True, blank=True)
    reports_to = models.ForeignKey("self", models.DO_NOTHING, db_column="ReportsTo", null=True, blank=True)
    birth_date = models.DateTimeField(db_column="BirthDate", null=True, blank=True)
    hire_date = models.DateTimeField(db_column="HireDate", null=True, blank=True)
    address = models.CharField(db_column="Address", max_length=70, null=True, blank=True)
    city = models.CharField(db_column="City", max_length=40, null=True, blank=True)
    state = models.CharField(db_column="State", max_length=40, null=True, blank=True)
    country = models.CharField(db_column="Country", max_length=40, null=True, blank=True)
    postal_code = models.CharField(db_column="PostalCode", max_length=10, null=True, blank=True)
    phone = models.CharField(db_column="Phone", max_length=24, null=True, blank=True)
    fax = models.CharField(db_column="Fax", max_length=24, null=True, blank=True)
    email = models.CharField(db_column="Email", max_length=60, null=True, blank=True)

    class Meta:
        db_table = "Employee"

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Customer(models.Model):
    customer_id = models.AutoField(db_column="CustomerId", primary_key=True)
    first_name = models.CharField(db_column="FirstName", max_length=40)
    last_name = models.CharField(db_column="LastName", max_length=20)
    company = models.CharField(db_column="Company", max_length=80, null=True, blank=True)
    address = models.CharField(db_column="Address", max_length=70, null=True, blank=True)
    city = models.CharField(db_column="City", max_length=40, null=True, blank=True)
    state = models.CharField(db_column="State", max_length=40, null=True, blank=True)
    country = models.CharField(db_column="Country", max_length=40, null=True, blank=True)
    postal_code = models.CharField(db_column="PostalCode", max_length=10, null=True, blank=True)
    phone = models.CharField(db_column="Phone", max_length=24, null=True, blank=True)
    fax = models.CharField(db_column="Fax", max_length=24, null=True, blank=True)
    email = models.CharField(db_column="Email", max_length=60)
    support_rep = models.ForeignKey(Employee, models.DO_NOTHING, db_column="SupportRepId", null=True, blank=True)

    class Meta:
        db_table = "Customer"

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Genre(models.Model):
    genre_id = models.AutoField(db_column="GenreId", primary_key=True)
    name = models.CharField(db_column="Name", max_length=120, null=True, blank=True)

    class Meta:
        db_table = "Genre"

    def __str__(self) -> str:
        return str(self.name)


class MediaType(models.Model):
    media_type_id = models.AutoField(db_column="MediaTypeId", primary_key=True)
    name = models.CharField(db_column="Name", max_length=120, null=True, blank=True)

    class Meta:
        db_table = "MediaType"

    def __str__(self) -> str:
        return str(self.name)


class Track(models.Model):
    track_id = models.AutoField(db_column="TrackId", primary_key=True)
    name = models.CharField(db_column="Name", max_length=200)
    album = models.ForeignKey(Album, models.DO_NOTHING, db_column="AlbumId", null=True, blank=True)
    media_type = models.ForeignKey(MediaType, models.DO_NOTHING, db_column="MediaTypeId")
    genre = models.ForeignKey(Genre, models.DO_NOTHING, db_column="GenreId", null=True, blank=True)
    composer = models.CharField(db_column="Composer", max_length=220, null=True, blank=True)
    milliseconds = models.IntegerField(db_column="Milliseconds")
    bytes = models.IntegerField(db_column="Bytes", null=True, blank=True)
    unit_price = models.DecimalField(db_column="UnitPrice", max_digits=10, decimal_places=2)

    class Meta:
        db_table = "Track"

    def __str__(self) -> str:
        return self.name


class Invoice(models.Model):
    invoice_id = models.AutoField(db_column="InvoiceId", primary_key=True)
    customer = models.ForeignKey(Customer, models.DO_NOTHING, db_column="CustomerId")
    invoice_date = models.DateTimeField(db_column="InvoiceDate")
    billing_address = models.CharField(db_column="BillingAddress", max_length=70, null=True, blank=True)
    billing_city = models.CharField(db_column="BillingCity", max_length=40, null=True, blank=True)
    billing_state = models.CharField(db_column="BillingState", max_length=40, null=True, blank=True)
    billing_country = models.CharField(db_column="BillingCountry", max_length=40, null=True, blank=True)
    billing_postal_code = models.CharField(db_column="BillingPostalCode", max_length=10, null=True, blank=True)
    total = models.DecimalField(db_column="Total", max_digits=10, decimal_places=2)

    class Meta:
        db_table = "Invoice"

    def __str__(self) -> str:
        return f"invoice {self.invoice_id}"


class InvoiceLine(models.Model):
    invoice_line_id = models.AutoField(db_column="InvoiceLineId", primary_key=True)
    invoice = models.ForeignKey(Invoice, models.DO_NOTHING, db_column="InvoiceId")
    track = models.ForeignKey(Track, models.DO_NOTHING, db_column="TrackId")
    unit_price = models.DecimalField(db_column="UnitPrice", max_digits=10, decimal_places=2)
    quantity = models.IntegerField(db_column="Quantity")

    class Meta:
        db_table = "InvoiceLine"

    def __str__(self) -> str:
        return f"invoice line {self.invoice_line_id}"


class Playlist(models.Model):
    playlist_id = models.AutoField(db_column="PlaylistId", primary_key=True)
    name = models.CharField(db_column="Name", max_length=120, null=True, blank=True)

    class Meta:
        db_table = "Playlist"

    def __str__(self) -> str:
        return str(self.name)


class PlaylistTrack(models.Model):
    pk = models.CompositePrimaryKey("playlist", "track")
    playlist = models.ForeignKey(Playlist, models.DO_NOTHING, db_column="PlaylistId")
    track = models.ForeignKey(Track, models.DO_NOTHING, db_column="TrackId")

    class Meta:
        db_table = "PlaylistTrack"

    def __str__(self) -> str:
        return f"playlist {self.playlist_id} track {self.track_id}"
