"""Admin of the menus, recipes and portion standards."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- menu ----------------------------------------------------------------------------------------


@admin.register(models.GramajStandard)
class GramajStandardAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "institution_type",
        "meal_type",
        "category",
        "recommended_gramaj",
        "created_at",
    )
    search_fields = ("category",)
    list_filter = ("institution_type", "meal_type", "category", "created_at")


@admin.register(models.MenuCategory)
class MenuCategoryAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "name_tr", "institution_type", "display_order")
    search_fields = ("name", "name_tr")
    list_filter = ("institution_type", "created_at")


@admin.register(models.MenuItem)
class MenuItemAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "category", "meal_type", "unit_cost", "is_active", "updated_at")
    search_fields = ("name",)
    list_filter = ("is_active", "meal_type", "season", "category")


@admin.register(models.Recipe)
class RecipeAdmin(MigratedModelAdmin):
    list_display = ("id", "menu_item", "difficulty", "prep_time", "cook_time", "serving_size")
    search_fields = ("menu_item__name", "instructions")
    list_filter = ("difficulty", "created_at")


@admin.register(models.RecipeIngredient)
class RecipeIngredientAdmin(MigratedModelAdmin):
    list_display = ("id", "recipe", "ingredient_name", "quantity", "unit", "cost_per_unit")
    search_fields = ("ingredient_name",)
    list_filter = ("unit", "created_at")


@admin.register(models.UserMenu)
class UserMenuAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "institution_type", "days", "persons", "total_cost", "created_at")
    search_fields = ("id", "name")
    list_filter = ("institution_type", "created_at")
