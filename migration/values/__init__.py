"""What a legacy value means on each side: conversion, the canonical text, and the one equality."""
