"""Routes of the JSON API (mounted under /api/ by procheff.urls)."""
from __future__ import annotations

from django.urls import path, re_path

from core import api

app_name = "core-api"

urlpatterns = [
    path("logs", api.LogsView.as_view(), name="logs"),
    path("semantic-cache/<str:prompt_hash>", api.SemanticCacheView.as_view(), name="semantic-cache"),
    path("tenders", api.TendersView.as_view(), name="tenders"),
    path("market-prices", api.MarketPricesView.as_view(), name="market-prices"),
    path("analysis", api.AnalysisCollectionView.as_view(), name="analyses"),
    path("analysis/<str:analysis_id>", api.AnalysisView.as_view(), name="analysis"),
    re_path(r"", api.NotFoundView.as_view(), name="not-found"),
]
