"""The menu planner: categories, items, recipes, ingredients, user menus and portion standards."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import LegacyBooleanField, LegacyDateTimeField, LegacyJSONField
from core.models.base import LegacyModel


class GramajStandard(LegacyModel):
    """The legacy `gramaj_standards` table."""

    id = models.BigAutoField(primary_key=True)
    institution_type = models.TextField()
    meal_type = models.TextField()
    category = models.TextField()
    min_gramaj = models.BigIntegerField(null=True, blank=True)
    max_gramaj = models.BigIntegerField(null=True, blank=True)
    recommended_gramaj = models.BigIntegerField()
    notes = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "gramaj_standards"
        indexes = [
            models.Index(fields=["institution_type", "meal_type"], name="idx_gramaj_standards_type"),
        ]

    def __str__(self) -> str:
        return f"gramaj_standards {self.pk}"

class MenuCategory(LegacyModel):
    """The legacy `menu_categories` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    name_tr = models.TextField()
    institution_type = models.TextField(null=True, blank=True)
    icon = models.TextField(null=True, blank=True)
    display_order = models.BigIntegerField(default=0, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "menu_categories"

    def __str__(self) -> str:
        return str(self.name)

def default_institution_types() -> list[str]:
    return ["all"]

class MenuItem(LegacyModel):
    """The legacy `menu_items` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    category = models.ForeignKey("MenuCategory", models.DO_NOTHING, db_column="category_id", db_index=False, null=True, blank=True)
    meal_type = models.TextField()
    default_gramaj = models.BigIntegerField()
    unit_cost = models.FloatField()
    calories = models.BigIntegerField(default=0, null=True, blank=True)
    protein = models.FloatField(default=0.0, null=True, blank=True)
    carbs = models.FloatField(default=0.0, null=True, blank=True)
    fat = models.FloatField(default=0.0, null=True, blank=True)
    season = models.TextField(default='all', null=True, blank=True)
    tags = LegacyJSONField(default=list, null=True, blank=True)
    institution_types = LegacyJSONField(default=default_institution_types, null=True, blank=True)
    is_active = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "menu_items"
        indexes = [
            models.Index(fields=["is_active"], name="idx_menu_items_active"),
            models.Index(fields=["category"], name="idx_menu_items_category"),
            models.Index(fields=["meal_type"], name="idx_menu_items_meal_type"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="menu_items_name_key"),
        ]

    def __str__(self) -> str:
        return str(self.name)

class RecipeIngredient(LegacyModel):
    """The legacy `recipe_ingredients` table."""

    id = models.BigAutoField(primary_key=True)
    recipe = models.ForeignKey("Recipe", models.CASCADE, db_column="recipe_id", db_index=False, null=True, blank=True)
    ingredient_name = models.TextField()
    quantity = models.FloatField()
    unit = models.TextField()
    cost_per_unit = models.FloatField(default=0.0, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "recipe_ingredients"
        indexes = [
            models.Index(fields=["recipe"], name="idx_recipe_ingredients_recipe"),
        ]

    def __str__(self) -> str:
        return f"recipe_ingredients {self.pk}"

class Recipe(LegacyModel):
    """The legacy `recipes` table."""

    id = models.BigAutoField(primary_key=True)
    menu_item = models.ForeignKey("MenuItem", models.CASCADE, db_column="menu_item_id", db_index=False, null=True, blank=True)
    instructions = models.TextField(null=True, blank=True)
    prep_time = models.BigIntegerField(default=0, null=True, blank=True)
    cook_time = models.BigIntegerField(default=0, null=True, blank=True)
    difficulty = models.TextField(default='orta', null=True, blank=True)
    serving_size = models.BigIntegerField(default=1, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "recipes"
        indexes = [
            models.Index(fields=["menu_item"], name="idx_recipes_menu_item"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["menu_item_id"], name="recipes_menu_item_id_key"),
        ]

    def __str__(self) -> str:
        return f"recipes {self.pk}"

class UserMenu(LegacyModel):
    """The legacy `user_menus` table."""

    id = models.CharField(primary_key=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    name = models.TextField()
    days = models.BigIntegerField()
    institution_type = models.TextField()
    persons = models.BigIntegerField()
    menu_data = LegacyJSONField()
    total_cost = models.FloatField(default=0.0, null=True, blank=True)
    avg_calories = models.BigIntegerField(default=0, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "user_menus"
        indexes = [
            models.Index(fields=["user_id"], name="idx_user_menus_user"),
        ]

    def __str__(self) -> str:
        return str(self.name)
