"""What the demo studio teaches: the categories and the topics of each."""

from __future__ import annotations

CATEGORIES = (
    "yoga", "meditation", "breathwork", "nutrition", "strength", "mindset", "mobility", "sleep",
)

TOPICS = {
    "yoga": ("Morning Flow", "Hatha Foundations", "Vinyasa for Strength", "Yin for Deep Rest",
             "Sun Salutations", "Hip Opening Sequence", "Balance and Core Flow", "Restorative Yoga"),
    "meditation": ("Body Scan", "Loving-Kindness Practice", "Ten-Minute Reset", "Walking Meditation",
                   "Focus and Clarity", "Letting Go of Stress", "Evening Wind-Down"),
    "breathwork": ("Box Breathing", "Breath for Energy", "Calming the Nervous System",
                   "Alternate Nostril Breathing", "Breath Holds Explained", "Coherent Breathing"),
    "nutrition": ("Plant-Based Basics", "Meal Prep for a Busy Week", "Eating for Recovery",
                  "Understanding Macros", "Gut Health Essentials", "Hydration Done Right"),
    "strength": ("Kettlebell Fundamentals", "Bodyweight Strength", "Posterior Chain Power",
                 "Full-Body Dumbbell Session", "Core Stability", "Strength After 40"),
    "mindset": ("Building Habits That Last", "Self-Compassion", "Resilience Toolkit",
                "Goal Setting with Intention", "Overcoming Procrastination", "Gratitude Practice"),
    "mobility": ("Desk Worker Mobility", "Shoulder Mobility", "Spine Health", "Hip Mobility Flow",
                 "Ankle and Knee Care", "Ten-Minute Mobility Break"),
    "sleep": ("Sleep Hygiene Basics", "Yoga Nidra for Sleep", "Bedtime Breathing",
              "Winding Down Without Screens", "Understanding Sleep Cycles"),
}
