"""The word tables the demo library is generated from.

Data, not logic: names, professions, places, events, genre premises, objects,
themes, endings, taglines and title words, plus the titles that exercise XML
escaping and unicode. :mod:`.generator` draws from them with a seeded RNG, so
changing any table (even its order) changes every generated library.
"""

from __future__ import annotations

# Vocabularies. Each summary draws a person, a profession, a place, an event,
# a genre-specific premise, an object and a theme, so two summaries share at
# most a few of these and read as different stories to an embedding model.
FIRST_NAMES = (
    "Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonah",
    "Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tove",
    "Ulla", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Amélie", "Jürgen", "Søren", "José",
    "Björn", "Chloé", "Renée", "Hana", "Yuki", "Aiko", "Mei", "Tomás", "Łukasz", "Noémie",
    "Declan", "Marisol", "Ingrid", "Kofi", "Leilani", "Otto", "Paloma", "Rafael", "Sigrid", "Teodor",
)
LAST_NAMES = (
    "Abara", "Bergström", "Castellanos", "Dubois", "Eriksen", "Fontaine", "García", "Haddad",
    "Ishikawa", "Jovanović", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Connell",
    "Petrov", "Quinlan", "Rossi", "Sørensen", "Tanaka", "Umarov", "Valdés", "Whitfield",
    "Xu", "Yamamoto", "Zimmermann", "Müller", "Novák", "Okafor", "Pellegrini", "Ramírez",
    "Schäfer", "Takahashi", "Villeneuve", "Wójcik", "Achebe", "Brennan", "Cho", "Delacroix",
    "Esposito",
)
PROFESSIONS = (
    "lighthouse keeper", "forensic accountant", "jazz pianist", "marine biologist",
    "retired boxer", "night-shift nurse", "cartographer", "beekeeper", "sommelier",
    "avalanche forecaster", "puppeteer", "translator of dead languages", "taxi driver",
    "glassblower", "court stenographer", "astronomer", "ferry captain", "pastry chef",
    "museum restorer", "radio DJ", "hotel concierge", "orchid smuggler", "bridge engineer",
    "chess prodigy", "wildfire lookout", "tattoo artist", "violin maker", "undertaker",
    "sheep farmer", "stage magician", "crossword setter", "circus acrobat", "locksmith",
    "submarine cook", "perfumer", "bookbinder", "storm chaser", "ballet teacher",
    "railway signalman", "falconer",
)
PLACES = (
    "a fishing village on Hokkaidō", "the salt flats of Bolivia", "a Brooklyn bakery",
    "a research station in Antarctica", "the canals of Amsterdam", "a vineyard in Mendoza",
    "a mining town in the Yukon", "the old quarter of Kraków", "a houseboat in Kerala",
    "a ski resort above Zürich", "the favelas of São Paulo", "a lighthouse off Reykjavík",
    "a night market in Taipei", "a monastery in Bhutan", "the suburbs of Lagos",
    "a Scottish island with one pub", "a space elevator in orbit over Kenya",
    "a border town in Sonora", "a jazz club in New Orleans", "the Paris catacombs",
    "a cattle ranch in Montana", "a Venetian glass workshop", "a tea plantation in Darjeeling",
    "a cargo ship crossing the Pacific", "a crumbling palace in Jaipur",
    "a high-rise in Tōkyō (東京)", "a Berlin nightclub", "a coral atoll in Micronesia",
    "a lumber camp in Oregon", "a desert observatory in Chile", "a Moroccan riad in Fès",
    "a frozen lake in Finnish Lapland", "a Greek island ferry port", "a seaside hotel in Brighton",
    "a Mongolian steppe encampment", "an abandoned theme park in Ohio",
)
EVENTS = (
    "finds a coded letter tucked inside a library book",
    "inherits a clock that runs backwards",
    "witnesses a collision no one else admits happened",
    "receives a postcard from a sister who died ten years ago",
    "wins a lottery ticket that was never purchased",
    "uncovers a ledger linking the town council to a vanished ship",
    "hears a song on the radio that only they seem to remember",
    "wakes up fluent in a language they never studied",
    "is hired to guard an empty warehouse at triple pay",
    "rescues a stray dog wearing a diplomat's collar",
    "discovers a sealed room behind the kitchen pantry",
    "is mistaken for a famous novelist at an awards dinner",
    "finds footprints leading into the sea and none coming back",
    "catches a neighbour burying a suitcase at midnight",
    "is sent a photograph of themself taken tomorrow",
    "loses a bet to a stranger and must repay it with a secret",
    "picks up a hitchhiker who knows every detail of their childhood",
    "agrees to deliver a sealed envelope across three borders",
    "is elected mayor by accident after a clerical error",
    "notices that the stars over the town have rearranged",
)
PREMISES: dict[str, tuple[str, ...]] = {
    "Action": (
        "A bullet-riddled chase across rooftops turns into a siege at a container port.",
        "Armed mercenaries seize a dam, and only a few hours remain before the valley floods.",
        "An armoured convoy is ambushed in a mountain pass during a blizzard.",
    ),
    "Adventure": (
        "An expedition follows a river no map agrees on into a rainforest.",
        "A hot-air balloon race around the world goes badly off course.",
        "A treasure hunt leads through shipwrecks, jungle temples and a sunken city.",
    ),
    "Animation": (
        "A talking paper lantern and a nervous robot team up to relight a city.",
        "Toys left in an attic organise an escape across a stormy garden.",
    ),
    "Comedy": (
        "A disastrous wedding rehearsal snowballs into a family feud over a stolen goat.",
        "Two rival food-truck owners are forced to share one parking space for a summer.",
        "A botched karaoke night becomes a viral sensation and a political campaign.",
    ),
    "Crime": (
        "A heist crew plans to rob a casino during a citywide blackout.",
        "A detective reopens a cold case involving counterfeit paintings and a drowned collector.",
        "Money laundering through a chain of laundromats draws in an honest cashier.",
    ),
    "Documentary": (
        "Interviews and archive footage trace the rise and fall of a forgotten pop star.",
        "A year in the life of a migrating herd, filmed from drones and hidden cameras.",
    ),
    "Drama": (
        "Estranged siblings return home to sell the family farm and reopen old wounds.",
        "A struggling single parent fights a custody battle while working three jobs.",
        "A choir of prison inmates prepares for a concert that might win them parole.",
    ),
    "Family": (
        "A girl and her grandfather build a raft to sail the length of a river.",
        "A clumsy dragon tries to win the village baking contest.",
    ),
    "Fantasy": (
        "A cursed crown passes from hand to hand, granting wishes at a terrible price.",
        "Witches of rival covens must unite when the moon refuses to rise.",
        "A blacksmith forges a sword that sings whenever a lie is told nearby.",
    ),
    "History": (
        "The court intrigues of an eighteenth-century empire unfold through a royal cook.",
        "Telegraph operators relay secrets during the last weeks of a war.",
    ),
    "Horror": (
        "Something in the well answers back when children whisper into it.",
        "A remote hospital ward keeps admitting a patient who died in 1952.",
        "A haunted cassette tape kills anyone who listens to side B.",
    ),
    "Music": (
        "A garage band enters a battle of the bands with a borrowed drum kit.",
        "An aging opera singer coaches a street rapper for a final performance.",
    ),
    "Mystery": (
        "A locked-room murder at a chess tournament baffles the local police.",
        "Anonymous riddles appear in the classifieds, each predicting a crime.",
        "A missing heiress leaves behind a trail of crossword clues.",
    ),
    "Romance": (
        "Two pen pals fall in love without knowing they live on the same street.",
        "A wedding planner falls for the groom's brother over one chaotic weekend.",
        "Letters delivered fifty years late rekindle a romance between strangers.",
    ),
    "Science Fiction": (
        "A colony ship wakes its crew a century early to face an alien signal.",
        "A scientist clones her memories to train an artificial intelligence.",
        "Time-travel tourism collapses when a visitor changes an election.",
    ),
    "Thriller": (
        "A witness in protection realises the marshal guarding her is the killer.",
        "A hacker races to stop a ransomware attack on a city's hospitals.",
        "A night train becomes a trap when the conductor locks every carriage.",
    ),
    "War": (
        "A bomb-disposal unit clears a minefield so refugees can cross a border.",
        "Submarine crews play a silent game of cat and mouse under the Arctic ice.",
    ),
    "Western": (
        "A bounty hunter escorts a prisoner across the desert while outlaws close in.",
        "A frontier town hires a gunslinger to stop a railroad baron's land grab.",
    ),
}
OBJECTS = (
    "a brass compass", "a cracked violin", "a jar of sea glass", "a stolen Vermeer",
    "a box of undeveloped film", "a child's drawing of a lighthouse", "a silver pocket watch",
    "a satellite phone", "an heirloom quilt", "a pair of red ice skates", "a typewriter ribbon",
    "a cursed tarot deck", "a vintage motorcycle", "a diary written in cipher", "a key to a bank vault",
    "a recipe for plum dumplings", "a taxidermied owl", "a bottle of 1961 Bordeaux",
    "a broken snow globe", "a reel of 16mm film", "a mixtape labelled ‘do not play’",
    "a handful of meteorite fragments", "a porcelain doll", "a map drawn on a napkin",
)
THEMES = (
    "It is a story about grief and the stubbornness of hope",
    "Underneath the plot lies a meditation on loyalty and betrayal",
    "The film asks what we owe to the people who raised us",
    "It becomes a portrait of a community learning to forgive",
    "The real subject is memory and how easily it is rewritten",
    "At its heart is an unlikely friendship across generations",
    "It wrestles with ambition, guilt and the price of success",
    "Beneath the jokes it is about loneliness in a crowded city",
    "It explores how greed corrodes even the kindest families",
    "The story turns on courage, cowardice and second chances",
    "It is about the borders between people and how they are crossed",
    "Its quiet theme is the dignity of ordinary work",
)
ENDINGS = (
    "Told with dry humour and a melancholy score.",
    "Shot in long, patient takes with natural light.",
    "A tense, twist-laden final act leaves nothing as it seemed.",
    "The ending is bittersweet, hopeful and entirely earned.",
    "Expect sharp dialogue, odd detours and a jubilant finale.",
    "Critics called it “a small miracle” & “impossible to forget”.",
    "Its climax unfolds in real time over one sleepless night.",
    "Narrated in flashbacks by the person it all happened to.",
)
TAGLINES = (
    "Some doors should stay closed.", "Every map lies a little.", "The tide always comes back.",
    "Nobody leaves this town unchanged.", "One night. One chance. No witnesses.",
    "Love is a long-distance sport.", "Trust no one who knows your name.",
    "The past keeps receipts.", "Home is where the secrets are.", "Run faster than the rumour.",
    "Small town. Big lie.", "Heroes are made of ordinary days.", "Listen to the silence.",
    "What the river takes, it returns.", "Fortune favours the foolish.",
)
TITLE_ADJECTIVES = (
    "Silent", "Crimson", "Last", "Hollow", "Burning", "Frozen", "Hidden", "Midnight",
    "Golden", "Broken", "Distant", "Wild", "Electric", "Forgotten", "Paper", "Iron",
    "Velvet", "Lonely", "Secret", "Bright",
)
TITLE_NOUNS = (
    "Harbor", "Orchard", "Signal", "Compass", "Garden", "Frontier", "Lantern", "Echo",
    "Summer", "River", "Kingdom", "Ledger", "Horizon", "Carousel", "Tide", "Letter",
    "Station", "Mirror", "Orchestra", "Avalanche", "Parade", "Archive", "Engine", "Meridian",
)
CITIES = (
    "Lisbon", "Kyoto", "Marrakesh", "Oslo", "Havana", "Montréal", "Zürich", "Kraków",
    "Reykjavík", "Valparaíso", "Tbilisi", "Hanoi", "Dublin", "Nairobi",
)
#: Titles that exercise escaping and unicode end to end. The first items of
#: every library use them, so even a small demo library contains them.
SPECIAL_MOVIE_TITLES = (
    "Café & Croissants",
    "Less <Than> Zero Hour",
    "\"Quoted\" Midnight",
    "L'été à Montréal",
    "日本の夏 (Summer in Japan)",
    "Über Straße & Söhne",
)
SPECIAL_SHOW_TITLES = ("Tom & Jerry's <Big> Night Shift", "Naïve Señor Müller's Café")
STUDIOS = (
    "Northlight Pictures", "Blue Heron Films", "Okapi & Sons", "Studio Kōhaku", "Red Ladder Media",
    "Meridian Features", "Lark Street Productions",
)
NETWORKS = ("HBO", "BBC One", "Canal+", "NHK", "Netflix", "AMC", "ZDF")
MOVIE_RATINGS = ("G", "PG", "PG-13", "R", "NR")
TV_RATINGS = ("TV-PG", "TV-14", "TV-MA", "TV-Y7")
COUNTRIES = ("United States of America", "France", "Japan", "Germany", "United Kingdom", "Brazil", "Norway")
