"""Small hand-written vocabularies for synthetic records (see data/SOURCES.md)."""

VEHICLES = (
    ("Ford", "Fiesta"), ("Ford", "Focus"), ("Ford", "Transit"), ("Vauxhall", "Corsa"),
    ("Vauxhall", "Astra"), ("Volkswagen", "Golf"), ("Volkswagen", "Polo"), ("BMW", "3 Series"),
    ("BMW", "1 Series"), ("Mercedes-Benz", "C-Class"), ("Mercedes-Benz", "Sprinter"),
    ("Audi", "A3"), ("Audi", "A4"), ("Toyota", "Prius"), ("Toyota", "Yaris"), ("Nissan", "Qashqai"),
    ("Peugeot", "208"), ("Renault", "Clio"), ("Honda", "Civic"), ("Kia", "Sportage"),
    ("Land Rover", "Range Rover"), ("Mini", "Cooper"), ("Yamaha", "NMAX"), ("Honda", "PCX"),
)
COLOURS = ("black", "white", "silver", "grey", "blue", "red", "green", "yellow", "gold", "orange")
WEAPONS = ("knife", "machete", "handgun", "shotgun", "baseball bat", "hammer", "screwdriver",
           "CS spray", "knuckleduster", "zombie knife")
DOCUMENTS = ("passport", "driving licence", "bank card", "national insurance card",
             "residence permit")
NATIONALITIES = (("British", 0.78), ("Irish", 0.03), ("Polish", 0.04), ("Romanian", 0.03),
                 ("Nigerian", 0.03), ("Indian", 0.03), ("Pakistani", 0.02), ("Somali", 0.02),
                 ("Jamaican", 0.02))

# Event types with the modus-operandi terms an officer would write about them.
EVENT_TYPES = {
    "burglary": ("rear window forced", "side gate", "jemmy", "untidy search", "jewellery taken",
                 "keys taken", "insecure door"),
    "robbery": ("phone snatch", "moped", "knifepoint", "threatened", "bag taken", "punched"),
    "drugs_supply": ("county lines", "deal line", "wraps", "crack cocaine", "heroin", "cuckooing",
                     "cash", "scales"),
    "vehicle_crime": ("catalytic converter", "keyless relay", "smashed window", "plates removed",
                      "cloned plates"),
    "assault": ("punched", "kicked", "bottle", "head injury", "domestic"),
    "weapons": ("knife recovered", "bladed article", "firearm", "hidden in bushes", "stashed"),
    "fraud": ("bank card", "cloned card", "vulnerable victim", "courier", "phishing"),
    "theft": ("shoplifting", "bicycle", "distraction", "pickpocket", "tools taken"),
}
GRADES_SOURCE = "1234"  # 3x5x2: source evaluation
GRADES_INTEL = "ABCDE"
GRADES_HANDLING = "PC"
STOP_GROUNDS = ("smell of cannabis", "seen passing item", "matching description",
                "intelligence led", "evasive behaviour", "known to carry weapon")
STOP_OUTCOMES = ("no further action", "arrest", "community resolution", "cannabis warning",
                 "penalty notice")
MONIKERS = ("Tiny", "Smudge", "Ghost", "Rocky", "Chalky", "Lefty", "Bones", "Snoop", "Dusty",
            "Blade", "Sparks", "Ace", "Dread", "Kidda", "Shorty", "Bigz", "Taz", "Red", "Trigger",
            "Moose", "Skinny", "Nitro", "Jinx", "Dice", "Frosty", "Scrappy", "Buster", "Zeus")
