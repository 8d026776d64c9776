"""The cutover console, the database toggle of migrated models, and read-only bookkeeping pages."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connections, models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from migration import conf, console, console_actions, phase, spotcheck
from migration.exceptions import MigrationError
from migration.inventory import migrated_models
from migration.models import (
    CutoverConsole,
    LatencySample,
    OutboxRecord,
    PhaseChange,
    ShadowMismatch,
)

DATABASE_PARAM = "db"
CHANGE_PHASE = "migration.change_phase"
REPAIR_ROWS = "migration.repair_rows"


def can_change_phase(request: HttpRequest) -> bool:
    """Superusers and holders of ``migration.change_phase`` (has_perm is True for active superusers)."""
    return request.user.is_active and request.user.is_staff and request.user.has_perm(CHANGE_PHASE)


def require_view(request: HttpRequest, model: type[models.Model]) -> None:
    """Row values are shown only to those who may view the model in its own admin."""
    opts = model._meta
    if not request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}") and not (
        request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    ):
        raise PermissionDenied(f"viewing {opts.label} rows needs its view permission")


def can_repair(request: HttpRequest) -> bool:
    """Superusers and holders of ``migration.repair_rows``."""
    return request.user.is_active and request.user.is_staff and request.user.has_perm(REPAIR_ROWS)


# --- The database toggle --------------------------------------------------------------------


def selected_alias(request: HttpRequest) -> str | None:
    """The alias asked for by ``?db=``, also when it travels in the admin's preserved filters."""
    alias = request.GET.get(DATABASE_PARAM)
    if alias is None:
        preserved = dict(parse_qsl(request.GET.get("_changelist_filters", "")))
        alias = preserved.get(DATABASE_PARAM)
    if alias in (conf.source_alias(), conf.target_alias()) and alias in connections:
        return alias
    return None


class DatabaseListFilter(admin.SimpleListFilter):
    """Shows a migrated model's rows from either database; the model admin does the switching."""

    title = "database"
    parameter_name = DATABASE_PARAM

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        primary = console.primary_alias(model_admin.model)
        choices = []
        for alias in (conf.source_alias(), conf.target_alias()):
            if alias in connections:
                role = "primary" if alias == primary else "read-only"
                choices.append((alias, f"{connections[alias].display_name} ({alias}), {role}"))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset  # MigratedModelAdmin.get_queryset has already picked the database.

    def choices(self, changelist: Any) -> Any:
        # The first choice is "as routed" (no parameter), named for what it means.
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = f"As routed ({console.primary_alias(changelist.model)})"
            yield choice


class MigratedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose changelist can show either database; the side that is not primary is read-only.

    Without ``?db=`` the router decides, as for any other read. With ``?db=<alias>`` every query of
    the changelist and of the change view goes to that alias. Only the alias the router writes to
    (the primary) accepts additions, changes and deletions.
    """

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [DatabaseListFilter, *super().get_list_filter(request)]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        alias = selected_alias(request)
        if alias is None:
            return queryset
        if not _table_exists(self.model, alias):
            return queryset.using(alias).none()
        return queryset.using(alias)

    def is_read_only(self, request: HttpRequest) -> bool:
        """True when the request looks at the database that does not take this model's writes."""
        alias = selected_alias(request)
        return alias is not None and alias != console.primary_alias(self.model)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not self.is_read_only(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.is_read_only(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.is_read_only(request) and super().has_delete_permission(request, obj)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        alias = selected_alias(request)
        if alias is not None and not _table_exists(self.model, alias):
            messages.warning(
                request,
                f"{self.model._meta.db_table} does not exist on {alias!r}; nothing to show there.",
            )
        elif self.is_read_only(request):
            messages.info(request, f"Showing {alias!r}, which is not the primary: read-only.")
        return super().changelist_view(request, extra_context)


def _table_exists(model: type[models.Model], alias: str) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return model._meta.db_table in connection.introspection.table_names(cursor)


# --- The console ----------------------------------------------------------------------------


class SpotCheckForm(forms.Form):
    """A model and either one primary key or a random sample size."""

    model = forms.ChoiceField()
    pk = forms.CharField(
        required=False, label="Primary key", help_text="Wins over the sample size."
    )
    sample = forms.IntegerField(
        required=False, min_value=1, max_value=spotcheck.MAX_SAMPLE, label="or a random sample of"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["model"]).choices = [
            (m._meta.label, f"{m._meta.db_table} ({m._meta.label})")
            for m in sorted(migrated_models(), key=lambda m: m._meta.db_table)
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("pk") and not data.get("sample"):
            raise forms.ValidationError("Enter a primary key or a sample size.")
        return data


@admin.register(CutoverConsole)
class CutoverConsoleAdmin(admin.ModelAdmin):
    """The "Cutover console" entry of the admin index: phase, gates, counts, spot checks."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", wrap(self.console_view), name=f"{name}_changelist"),
            path("phase/", wrap(self.phase_view), name=f"{name}_phase"),
            path("spotcheck/", wrap(self.spotcheck_view), name=f"{name}_spotcheck"),
            path("repair/", wrap(self.repair_view), name=f"{name}_repair"),
            path("<path:object_id>/", wrap(self.redirect_to_console), name=f"{name}_change"),
        ]

    def context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "can_change_phase": can_change_phase(request),
            "can_repair": can_repair(request),
            **extra,
        }

    def console_view(self, request: HttpRequest) -> HttpResponse:
        snapshot = console.snapshot()
        form = SpotCheckForm(initial={"sample": 10})
        return TemplateResponse(
            request,
            "admin/migration/console.html",
            self.context(request, "Cutover console", snapshot=snapshot, form=form),
        )

    def redirect_to_console(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """LogEntry rows link to an object; the console is the only "object" there is."""
        return HttpResponseRedirect(reverse("admin:migration_cutoverconsole_changelist"))

    def spotcheck_view(self, request: HttpRequest) -> HttpResponse:
        form = SpotCheckForm(request.GET or None)
        results: list[spotcheck.RowComparison] = []
        error = ""
        if form.is_bound and form.is_valid():
            try:
                model = spotcheck.resolve_model(form.cleaned_data["model"])
                require_view(request, model)
                if form.cleaned_data.get("pk"):
                    pk = spotcheck.parse_pk(model, form.cleaned_data["pk"])
                    results = [spotcheck.compare_row(model, pk)]
                else:
                    results = spotcheck.sample_rows(model, form.cleaned_data["sample"])
            except MigrationError as exc:
                error = console.redact(str(exc))
        return TemplateResponse(
            request,
            "admin/migration/spotcheck.html",
            self.context(
                request,
                "Spot check",
                form=form,
                results=results,
                error=error,
                differing=[r for r in results if r.differs],
            ),
        )

    @method_decorator(require_POST)
    def phase_view(self, request: HttpRequest) -> HttpResponse:
        """Advance or roll back; POST only (CSRF-checked by the admin), permission-checked, logged."""
        if not can_change_phase(request):
            raise PermissionDenied(
                "changing the cutover phase needs the migration.change_phase permission"
            )
        action = request.POST.get("action")
        if action not in ("advance", "rollback"):
            messages.error(request, "Unknown action; use the Advance or Roll back button.")
            return HttpResponseRedirect(reverse("admin:migration_cutoverconsole_changelist"))
        try:
            change = console_actions.change_phase(
                action, actor=f"{request.user.get_username()} (admin console)"
            )
        except MigrationError as exc:
            messages.error(request, console.redact(str(exc)))
        else:
            self.log_change(request, CutoverConsole(pk=1), change)
            messages.success(request, change)
        return HttpResponseRedirect(reverse("admin:migration_cutoverconsole_changelist"))

    def repair_view(self, request: HttpRequest) -> HttpResponse:
        """GET shows what the repair would change on which database and asks; POST repairs and reports."""
        if not can_repair(request):
            raise PermissionDenied("repairing rows needs the migration.repair_rows permission")
        data = request.POST if request.method == "POST" else request.GET
        try:
            model = spotcheck.resolve_model(data.get("model", ""))
            pks = [spotcheck.parse_pk(model, raw) for raw in data.getlist("pk") if raw.strip()]
        except MigrationError as exc:
            messages.error(request, console.redact(str(exc)))
            return HttpResponseRedirect(reverse("admin:migration_cutoverconsole_spotcheck"))
        require_view(request, model)
        if not pks:
            messages.error(request, "Pick at least one differing row to repair.")
            return HttpResponseRedirect(reverse("admin:migration_cutoverconsole_spotcheck"))
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            try:
                summary = console_actions.repair(model, pks)
            except MigrationError as exc:
                messages.error(request, console.redact(str(exc)))
            else:
                self.log_change(request, CutoverConsole(pk=1), summary)
                messages.success(request, summary)
            results = spotcheck.compare_rows(model, pks)
            return TemplateResponse(
                request,
                "admin/migration/spotcheck.html",
                self.context(
                    request,
                    "Spot check after repair",
                    form=SpotCheckForm(initial={"model": model._meta.label}),
                    results=results,
                    error="",
                    differing=[r for r in results if r.differs],
                ),
            )
        return TemplateResponse(
            request,
            "admin/migration/repair_confirm.html",
            self.context(
                request,
                "Repair rows",
                model_label=model._meta.label,
                pks=pks,
                plan=console_actions.repair_plan(model, pks),
            ),
        )


# --- The engine's bookkeeping, read-only ------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """The engine writes these rows; operators only read them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PhaseChange)
class PhaseChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "actor",
        "via",
        "from_phase",
        "from_percent",
        "to_phase",
        "to_percent",
        "forced",
    )
    list_filter = ("via", "forced")


@admin.register(OutboxRecord)
class OutboxRecordAdmin(ReadOnlyAdmin):
    """The outbox on the current primary (where new records are written); the console shows both."""

    list_display = (
        "id",
        "model_label",
        "pk_value",
        "operation",
        "created_at",
        "attempts",
        "last_error",
    )
    list_filter = ("model_label", "operation")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxRecord]:
        return super().get_queryset(request).using(phase.primary_alias())


@admin.register(LatencySample)
class LatencySampleAdmin(ReadOnlyAdmin):
    list_display = ("at", "alias", "kind", "count", "total_ms", "process")
    list_filter = ("alias", "kind")


@admin.register(ShadowMismatch)
class ShadowMismatchAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "model_label",
        "primary_alias",
        "shadow_alias",
        "primary_rows",
        "shadow_rows",
        "primary_ms",
        "shadow_ms",
    )
    list_filter = ("model_label",)
