package world

// The catalogue: tools, the phrases that ask for them, and the values their
// parameters take. Phrases in Say/Mods are seen in training; those in
// TestSay/TestMods only in the test split, so the test measures whether a
// model learned the task rather than the sentences.
//
// A clause is an imperative verb phrase ("check the weather in {city}");
// {name} stands for a parameter's value as the user would write it. Every
// clause names all required parameters; each optional parameter has
// modifiers appended to the clause when the request sets it. A boolean's
// modifier carries no placeholder: saying it sets the opposite of the default.

// Kinds of parameters.
const (
	String  = "string"
	Integer = "integer"
	Number  = "number"
	Boolean = "boolean"
	Enum    = "enum"
	Array   = "array"
)

// Param is one parameter of a tool.
type Param struct {
	Name     string
	Kind     string
	Desc     string // empty when the name says it all (shorter prompts)
	Required bool
	Default  any      // optional parameters: string, int64, float64, bool, or nil for none
	Pool     string   // String and Array: the value pool (see pools)
	Enum     []string // Enum: the allowed values
	// Say maps an Enum value to other ways users write it (the value itself
	// is always one of them).
	Say      map[string][]string
	Min, Max int // Integer: the range; Number: the range of its integer part
	Mods     []string
	TestMods []string
}

// Tool is one function of the world.
type Tool struct {
	Domain  string
	Name    string
	Desc    string
	Purpose string // "check the weather": used in reasoning and refusals
	Params  []Param
	Say     []string
	TestSay []string
}

// Catalog lists every tool of the world, grouped by domain.
var Catalog = []*Tool{
	// weather
	{Domain: "weather", Name: "get_weather", Desc: "Get the current weather in a city.", Purpose: "check the weather",
		Params: []Param{
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "unit", Kind: Enum, Enum: []string{"celsius", "fahrenheit"}, Default: "celsius",
				Mods: []string{"in {unit}", "using {unit}"}, TestMods: []string{"with temperatures in {unit}"}},
			{Name: "include_forecast", Kind: Boolean, Desc: "Add the 3-day forecast.", Default: false,
				Mods: []string{"with the forecast", "including the forecast"}, TestMods: []string{"plus the next few days"}},
		},
		Say:     []string{"check the weather in {city}", "get the weather for {city}", "tell me the weather in {city}"},
		TestSay: []string{"find out how the weather is in {city}", "give me the current weather for {city}"}},
	{Domain: "weather", Name: "get_air_quality", Desc: "Get the air quality index of a city.", Purpose: "check the air quality",
		Params: []Param{
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "pollutant", Kind: Enum, Enum: []string{"pm25", "ozone", "no2"}, Default: "pm25",
				Say:  map[string][]string{"pm25": {"fine particles"}, "no2": {"nitrogen dioxide"}},
				Mods: []string{"for {pollutant}", "looking at {pollutant}"}, TestMods: []string{"focusing on {pollutant}"}},
		},
		Say:     []string{"check the air quality in {city}", "get the air quality index for {city}", "tell me how clean the air is in {city}"},
		TestSay: []string{"look up the pollution level in {city}", "see how polluted the air in {city} is"}},
	{Domain: "weather", Name: "get_sunrise", Desc: "Get sunrise and sunset times.", Purpose: "look up sunrise times",
		Params: []Param{
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "date", Kind: String, Desc: "Date, YYYY-MM-DD.", Required: true, Pool: "date"},
		},
		Say:     []string{"get the sunrise time in {city} on {date}", "tell me when the sun rises in {city} on {date}", "look up sunrise and sunset for {city} on {date}"},
		TestSay: []string{"find out when it gets light in {city} on {date}", "check the sunrise in {city} for {date}"}},

	// travel
	{Domain: "travel", Name: "search_flights", Desc: "Search flights between two cities.", Purpose: "search for flights",
		Params: []Param{
			{Name: "origin", Kind: String, Required: true, Pool: "city"},
			{Name: "destination", Kind: String, Required: true, Pool: "city"},
			{Name: "date", Kind: String, Desc: "Date, YYYY-MM-DD.", Required: true, Pool: "date"},
			{Name: "passengers", Kind: Integer, Default: int64(1), Min: 2, Max: 6,
				Mods: []string{"for {passengers} people", "for {passengers} passengers"}, TestMods: []string{"for a group of {passengers}"}},
			{Name: "cabin", Kind: Enum, Enum: []string{"economy", "business", "first"}, Default: "economy",
				Mods: []string{"in {cabin} class", "flying {cabin}"}, TestMods: []string{"with {cabin} seats"}},
		},
		Say:     []string{"search flights from {origin} to {destination} on {date}", "find a flight from {origin} to {destination} on {date}", "look for flights on {date} from {origin} to {destination}"},
		TestSay: []string{"see what flies from {origin} to {destination} on {date}", "check flights to {destination} from {origin} on {date}"}},
	{Domain: "travel", Name: "book_hotel", Desc: "Book a hotel room.", Purpose: "book a hotel",
		Params: []Param{
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "check_in", Kind: String, Desc: "Check-in date, YYYY-MM-DD.", Required: true, Pool: "date"},
			{Name: "nights", Kind: Integer, Required: true, Min: 1, Max: 14},
			{Name: "guests", Kind: Integer, Default: int64(2), Min: 1, Max: 6,
				Mods: []string{"for {guests} guests", "for {guests} people"}, TestMods: []string{"sleeping {guests}"}},
			{Name: "breakfast", Kind: Boolean, Desc: "Include breakfast.", Default: false,
				Mods: []string{"with breakfast", "including breakfast"}, TestMods: []string{"with morning meals included"}},
		},
		Say:     []string{"book a hotel in {city} from {check_in} for {nights} nights", "reserve a room in {city} for {nights} nights starting {check_in}", "get me a hotel in {city}, {nights} nights from {check_in}"},
		TestSay: []string{"find me somewhere to stay in {city} for {nights} nights from {check_in}", "book me {nights} nights at a hotel in {city} from {check_in}"}},
	{Domain: "travel", Name: "rent_car", Desc: "Rent a car.", Purpose: "rent a car",
		Params: []Param{
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "pickup_date", Kind: String, Desc: "Date, YYYY-MM-DD.", Required: true, Pool: "date"},
			{Name: "days", Kind: Integer, Required: true, Min: 1, Max: 10},
			{Name: "car_type", Kind: Enum, Enum: []string{"compact", "suv", "van"}, Default: "compact",
				Say:  map[string][]string{"suv": {"SUV"}, "van": {"minivan"}},
				Mods: []string{"and make it a {car_type}", "with a {car_type}"}, TestMods: []string{"preferably a {car_type}"}},
		},
		Say:     []string{"rent a car in {city} on {pickup_date} for {days} days", "book a rental car in {city} for {days} days from {pickup_date}", "get me a car in {city} from {pickup_date} for {days} days"},
		TestSay: []string{"arrange wheels in {city} for {days} days starting {pickup_date}", "hire a car in {city} from {pickup_date} for {days} days"}},
	{Domain: "travel", Name: "convert_currency", Desc: "Convert money between currencies.", Purpose: "convert currency",
		Params: []Param{
			{Name: "amount", Kind: Number, Required: true, Min: 5, Max: 900},
			{Name: "from_currency", Kind: String, Desc: "Currency code, e.g. USD.", Required: true, Pool: "currency"},
			{Name: "to_currency", Kind: String, Desc: "Currency code, e.g. EUR.", Required: true, Pool: "currency"},
		},
		Say:     []string{"convert {amount} {from_currency} to {to_currency}", "change {amount} {from_currency} into {to_currency}", "tell me what {amount} {from_currency} is in {to_currency}"},
		TestSay: []string{"work out how much {amount} {from_currency} comes to in {to_currency}", "turn {amount} {from_currency} into {to_currency}"}},

	// dining
	{Domain: "dining", Name: "find_restaurants", Desc: "Find restaurants in a city.", Purpose: "find restaurants",
		Params: []Param{
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "cuisine", Kind: Enum, Required: true, Enum: []string{"italian", "japanese", "mexican", "indian", "thai", "french"}},
			{Name: "price_level", Kind: Integer, Desc: "Max price level, 1-4.", Default: int64(4), Min: 1, Max: 3,
				Mods: []string{"at price level {price_level} or below", "with a price level up to {price_level}"}, TestMods: []string{"costing no more than level {price_level}"}},
		},
		Say:     []string{"find {cuisine} restaurants in {city}", "look for a {cuisine} place in {city}", "search for {cuisine} food in {city}"},
		TestSay: []string{"suggest somewhere {cuisine} to eat in {city}", "show me {cuisine} restaurants around {city}"}},
	{Domain: "dining", Name: "reserve_table", Desc: "Reserve a restaurant table.", Purpose: "reserve a table",
		Params: []Param{
			{Name: "restaurant", Kind: String, Required: true, Pool: "restaurant"},
			{Name: "date", Kind: String, Desc: "Date, YYYY-MM-DD.", Required: true, Pool: "date"},
			{Name: "time", Kind: String, Desc: "Time, HH:MM.", Required: true, Pool: "time"},
			{Name: "party_size", Kind: Integer, Required: true, Min: 1, Max: 12},
		},
		Say:     []string{"reserve a table at {restaurant} on {date} at {time} for {party_size}", "book {restaurant} for {party_size} people on {date} at {time}", "get a table for {party_size} at {restaurant} at {time} on {date}"},
		TestSay: []string{"hold a spot for {party_size} at {restaurant}, {date} at {time}", "book a table for {party_size} at {restaurant} for {date} at {time}"}},
	{Domain: "dining", Name: "order_food", Desc: "Order food from a restaurant.", Purpose: "order food",
		Params: []Param{
			{Name: "restaurant", Kind: String, Required: true, Pool: "restaurant"},
			{Name: "items", Kind: Array, Required: true, Pool: "dish"},
			{Name: "delivery", Kind: Boolean, Desc: "Deliver instead of pickup.", Default: true,
				Mods: []string{"for pickup", "and I will pick it up"}, TestMods: []string{"to collect myself"}},
		},
		Say:     []string{"order {items} from {restaurant}", "get {items} from {restaurant}", "place an order at {restaurant} for {items}"},
		TestSay: []string{"have {restaurant} make me {items}", "order me {items} from {restaurant}"}},
	{Domain: "dining", Name: "get_recipe", Desc: "Get a recipe for a dish.", Purpose: "find a recipe",
		Params: []Param{
			{Name: "dish", Kind: String, Required: true, Pool: "dish"},
			{Name: "servings", Kind: Integer, Default: int64(2), Min: 1, Max: 10,
				Mods: []string{"for {servings} servings", "serving {servings}"}, TestMods: []string{"scaled to {servings} portions"}},
			{Name: "vegetarian", Kind: Boolean, Desc: "Vegetarian version.", Default: false,
				Mods: []string{"made vegetarian", "without meat"}, TestMods: []string{"in a meat-free version"}},
		},
		Say:     []string{"get a recipe for {dish}", "show me how to cook {dish}", "find a {dish} recipe"},
		TestSay: []string{"teach me to make {dish}", "look up how to make {dish}"}},

	// shopping
	{Domain: "shopping", Name: "add_to_cart", Desc: "Add a product to the cart.", Purpose: "add items to the cart",
		Params: []Param{
			{Name: "product", Kind: String, Required: true, Pool: "product"},
			{Name: "quantity", Kind: Integer, Default: int64(1), Min: 2, Max: 9,
				Mods: []string{"times {quantity}", "with quantity {quantity}"}, TestMods: []string{"in a pack of {quantity}"}},
		},
		Say:     []string{"add {product} to my cart", "put {product} in the cart", "add the {product} to the basket"},
		TestSay: []string{"drop {product} into my cart", "add a {product} to my basket"}},
	{Domain: "shopping", Name: "create_shopping_list", Desc: "Create a shopping list.", Purpose: "make a shopping list",
		Params: []Param{
			{Name: "name", Kind: String, Required: true, Pool: "listname"},
			{Name: "items", Kind: Array, Required: true, Pool: "grocery"},
		},
		Say:     []string{"make a shopping list called {name} with {items}", "create a list named {name} containing {items}", "start a {name} list with {items}"},
		TestSay: []string{"jot down {items} on a new list called {name}", "make me a list named {name} with {items}"}},
	{Domain: "shopping", Name: "track_package", Desc: "Track a parcel.", Purpose: "track a package",
		Params: []Param{
			{Name: "tracking_number", Kind: String, Required: true, Pool: "tracking"},
			{Name: "carrier", Kind: Enum, Enum: []string{"ups", "fedex", "dhl"}, Default: "ups",
				Say:  map[string][]string{"ups": {"UPS"}, "fedex": {"FedEx"}, "dhl": {"DHL"}},
				Mods: []string{"with {carrier}", "shipped by {carrier}"}, TestMods: []string{"sent through {carrier}"}},
		},
		Say:     []string{"track package {tracking_number}", "check where parcel {tracking_number} is", "get the status of shipment {tracking_number}"},
		TestSay: []string{"locate my delivery {tracking_number}", "where is my package {tracking_number}"}},
	{Domain: "shopping", Name: "compare_prices", Desc: "Compare prices of a product.", Purpose: "compare prices",
		Params: []Param{
			{Name: "product", Kind: String, Required: true, Pool: "product"},
			{Name: "max_results", Kind: Integer, Default: int64(5), Min: 2, Max: 9,
				Mods: []string{"showing {max_results} shops", "across {max_results} stores"}, TestMods: []string{"limited to {max_results} offers"}},
		},
		Say:     []string{"compare prices for {product}", "find the best price for {product}", "check what {product} costs in different shops"},
		TestSay: []string{"shop around for {product}", "compare what shops charge for {product}"}},

	// finance
	{Domain: "finance", Name: "get_stock_price", Desc: "Get a stock's latest price.", Purpose: "check a stock price",
		Params: []Param{
			{Name: "symbol", Kind: String, Required: true, Pool: "ticker"},
			{Name: "exchange", Kind: Enum, Enum: []string{"nasdaq", "nyse"}, Default: "nasdaq",
				Say:  map[string][]string{"nasdaq": {"NASDAQ"}, "nyse": {"NYSE"}},
				Mods: []string{"on {exchange}", "listed on {exchange}"}, TestMods: []string{"as traded on {exchange}"}},
		},
		Say:     []string{"get the stock price of {symbol}", "check how {symbol} is trading", "tell me the price of {symbol} shares"},
		TestSay: []string{"quote {symbol} for me", "look up the share price of {symbol}"}},
	{Domain: "finance", Name: "send_money", Desc: "Send money to a person.", Purpose: "send money",
		Params: []Param{
			{Name: "recipient", Kind: String, Required: true, Pool: "person"},
			{Name: "amount", Kind: Number, Required: true, Min: 5, Max: 500},
			{Name: "currency", Kind: String, Default: "USD", Pool: "currency",
				Mods: []string{"in {currency}", "paid in {currency}"}, TestMods: []string{"as {currency}"}},
			{Name: "note", Kind: String, Desc: "Message to add.", Pool: "note",
				Mods: []string{"with the note {note}", "adding the message {note}"}, TestMods: []string{"and write {note} on it"}},
		},
		Say:     []string{"send {amount} to {recipient}", "transfer {amount} to {recipient}", "pay {recipient} {amount}"},
		TestSay: []string{"wire {recipient} the sum of {amount}", "send {recipient} {amount}"}},
	{Domain: "finance", Name: "calculate_loan_payment", Desc: "Monthly payment of a loan.", Purpose: "calculate a loan payment",
		Params: []Param{
			{Name: "principal", Kind: Integer, Required: true, Min: 1000, Max: 90000},
			{Name: "annual_rate", Kind: Number, Desc: "Interest rate in percent.", Required: true, Min: 1, Max: 12},
			{Name: "years", Kind: Integer, Desc: "Loan term in years.", Required: true, Min: 1, Max: 30},
		},
		Say:     []string{"calculate the monthly payment on a {principal} loan at {annual_rate} percent for {years} years", "work out the payment for borrowing {principal} over {years} years at {annual_rate} percent", "compute my loan payment: {principal} at {annual_rate} percent for {years} years"},
		TestSay: []string{"figure out what I pay each month on {principal} over {years} years with {annual_rate} percent interest", "calculate payments on a {principal} loan over {years} years at {annual_rate} percent"}},
	{Domain: "finance", Name: "calculate_tip", Desc: "Calculate the tip on a bill.", Purpose: "calculate a tip",
		Params: []Param{
			{Name: "bill_amount", Kind: Number, Required: true, Min: 10, Max: 300},
			{Name: "tip_percent", Kind: Integer, Desc: "Tip percentage.", Default: int64(15), Min: 10, Max: 25,
				Mods: []string{"at {tip_percent} percent", "with a {tip_percent} percent tip"}, TestMods: []string{"tipping {tip_percent} percent"}},
			{Name: "split", Kind: Integer, Desc: "People sharing the bill.", Default: int64(1), Min: 2, Max: 8,
				Mods: []string{"split between {split} people", "shared by {split}"}, TestMods: []string{"divided {split} ways"}},
		},
		Say:     []string{"calculate the tip on a {bill_amount} bill", "work out the tip for {bill_amount}", "tell me the tip on a bill of {bill_amount}"},
		TestSay: []string{"figure out what to leave on a {bill_amount} check", "compute the tip for a bill of {bill_amount}"}},

	// productivity
	{Domain: "productivity", Name: "create_event", Desc: "Add an event to the calendar.", Purpose: "add a calendar event",
		Params: []Param{
			{Name: "title", Kind: String, Required: true, Pool: "event"},
			{Name: "date", Kind: String, Desc: "Date, YYYY-MM-DD.", Required: true, Pool: "date"},
			{Name: "time", Kind: String, Desc: "Start time, HH:MM.", Required: true, Pool: "time"},
			{Name: "duration_minutes", Kind: Integer, Desc: "Length in minutes.", Default: int64(60), Min: 15, Max: 180,
				Mods: []string{"lasting {duration_minutes} minutes", "for {duration_minutes} minutes"}, TestMods: []string{"that runs {duration_minutes} minutes"}},
		},
		Say:     []string{"add {title} to my calendar on {date} at {time}", "schedule {title} for {date} at {time}", "create an event called {title} on {date} at {time}"},
		TestSay: []string{"put {title} in my diary for {time} on {date}", "book {title} on {date} at {time} in my calendar"}},
	{Domain: "productivity", Name: "set_reminder", Desc: "Set a reminder.", Purpose: "set a reminder",
		Params: []Param{
			{Name: "text", Kind: String, Required: true, Pool: "chore"},
			{Name: "time", Kind: String, Desc: "Time, HH:MM.", Required: true, Pool: "time"},
			{Name: "repeat", Kind: Enum, Enum: []string{"none", "daily", "weekly"}, Default: "none",
				Say:  map[string][]string{"daily": {"every day"}, "weekly": {"every week"}},
				Mods: []string{"repeating {repeat}", "and repeat it {repeat}"}, TestMods: []string{"recurring {repeat}"}},
		},
		Say:     []string{"remind me to {text} at {time}", "set a reminder at {time} to {text}", "create a reminder to {text} at {time}"},
		TestSay: []string{"nudge me at {time} to {text}", "at {time}, remind me to {text}"}},
	{Domain: "productivity", Name: "send_email", Desc: "Send an email.", Purpose: "send an email",
		Params: []Param{
			{Name: "to", Kind: String, Required: true, Pool: "email"},
			{Name: "subject", Kind: String, Required: true, Pool: "subject"},
			{Name: "urgent", Kind: Boolean, Desc: "Mark as urgent.", Default: false,
				Mods: []string{"marked urgent", "as a high priority message"}, TestMods: []string{"flagged as important"}},
		},
		Say:     []string{"send an email to {to} about {subject}", "email {to} with the subject {subject}", "write to {to} about {subject}"},
		TestSay: []string{"drop {to} a message titled {subject}", "email {to} about {subject}"}},
	{Domain: "productivity", Name: "translate_text", Desc: "Translate text.", Purpose: "translate text",
		Params: []Param{
			{Name: "text", Kind: String, Required: true, Pool: "phrase"},
			{Name: "target_language", Kind: Enum, Required: true, Enum: []string{"spanish", "french", "german", "italian", "japanese"},
				Say: map[string][]string{"spanish": {"Spanish"}, "french": {"French"}, "german": {"German"}, "italian": {"Italian"}, "japanese": {"Japanese"}}},
		},
		Say:     []string{"translate {text} into {target_language}", "say {text} in {target_language}", "give me {text} in {target_language}"},
		TestSay: []string{"render {text} in {target_language}", "translate the phrase {text} to {target_language}"}},

	// media
	{Domain: "media", Name: "play_song", Desc: "Play a song.", Purpose: "play music",
		Params: []Param{
			{Name: "title", Kind: String, Required: true, Pool: "song"},
			{Name: "artist", Kind: String, Pool: "artist",
				Mods: []string{"by {artist}", "from {artist}"}, TestMods: []string{"performed by {artist}"}},
		},
		Say:     []string{"play {title}", "put on {title}", "start playing the song {title}"},
		TestSay: []string{"queue up {title}", "play the track {title}"}},
	{Domain: "media", Name: "search_movies", Desc: "Search movies by genre.", Purpose: "search for movies",
		Params: []Param{
			{Name: "genre", Kind: Enum, Required: true, Enum: []string{"comedy", "drama", "horror", "action", "documentary"}},
			{Name: "year", Kind: Integer, Min: 1970, Max: 2024,
				Mods: []string{"from {year}", "released in {year}"}, TestMods: []string{"that came out in {year}"}},
			{Name: "min_rating", Kind: Number, Desc: "Minimum rating, 0-10.", Min: 5, Max: 8,
				Mods: []string{"rated at least {min_rating}", "with a rating above {min_rating}"}, TestMods: []string{"scoring {min_rating} or more"}},
		},
		Say:     []string{"find {genre} movies", "search for {genre} films", "look up some {genre} movies"},
		TestSay: []string{"recommend a {genre} to watch", "show me some {genre} movies"}},
	{Domain: "media", Name: "set_volume", Desc: "Set the speaker volume.", Purpose: "change the volume",
		Params: []Param{
			{Name: "level", Kind: Integer, Desc: "Volume, 0-100.", Required: true, Min: 0, Max: 100},
		},
		Say:     []string{"set the volume to {level}", "change the volume to {level}", "turn the volume to {level}"},
		TestSay: []string{"adjust the sound level to {level}", "put the volume at {level}"}},
	{Domain: "media", Name: "create_playlist", Desc: "Create a playlist.", Purpose: "make a playlist",
		Params: []Param{
			{Name: "name", Kind: String, Required: true, Pool: "listname"},
			{Name: "songs", Kind: Array, Required: true, Pool: "song"},
		},
		Say:     []string{"make a playlist called {name} with {songs}", "create a playlist named {name} containing {songs}", "start a {name} playlist with {songs}"},
		TestSay: []string{"put {songs} together in a playlist called {name}", "build a playlist named {name} from {songs}"}},

	// home
	{Domain: "home", Name: "set_thermostat", Desc: "Set the thermostat.", Purpose: "set the thermostat",
		Params: []Param{
			{Name: "temperature", Kind: Integer, Required: true, Min: 16, Max: 28},
			{Name: "room", Kind: String, Default: "living room", Pool: "room",
				Mods: []string{"in the {room}", "for the {room}"}, TestMods: []string{"over in the {room}"}},
		},
		Say:     []string{"set the thermostat to {temperature} degrees", "make it {temperature} degrees", "change the heating to {temperature} degrees"},
		TestSay: []string{"warm things up to {temperature} degrees", "set the temperature to {temperature} degrees"}},
	{Domain: "home", Name: "turn_on_lights", Desc: "Turn on the lights.", Purpose: "turn on lights",
		Params: []Param{
			{Name: "room", Kind: String, Required: true, Pool: "room"},
			{Name: "brightness", Kind: Integer, Desc: "Brightness in percent.", Default: int64(100), Min: 10, Max: 90,
				Mods: []string{"at {brightness} percent", "dimmed to {brightness} percent"}, TestMods: []string{"with brightness {brightness}"}},
		},
		Say:     []string{"turn on the lights in the {room}", "switch on the {room} lights", "light up the {room}"},
		TestSay: []string{"get the {room} lamps on", "turn the {room} lights on"}},
	{Domain: "home", Name: "lock_door", Desc: "Lock a door.", Purpose: "lock a door",
		Params: []Param{
			{Name: "door", Kind: Enum, Required: true, Enum: []string{"front", "back", "garage"}},
		},
		Say:     []string{"lock the {door} door", "make sure the {door} door is locked", "secure the {door} door"},
		TestSay: []string{"bolt the {door} door", "lock up the {door} door"}},

	// health
	{Domain: "health", Name: "log_workout", Desc: "Log a workout.", Purpose: "log a workout",
		Params: []Param{
			{Name: "activity", Kind: Enum, Required: true, Enum: []string{"running", "cycling", "swimming", "yoga"}},
			{Name: "minutes", Kind: Integer, Desc: "Duration in minutes.", Required: true, Min: 10, Max: 120},
			{Name: "calories", Kind: Integer, Min: 50, Max: 900,
				Mods: []string{"burning {calories} calories", "with {calories} calories"}, TestMods: []string{"worth {calories} calories"}},
		},
		Say:     []string{"log {minutes} minutes of {activity}", "record a {activity} workout of {minutes} minutes", "add {activity} for {minutes} minutes to my log"},
		TestSay: []string{"note that I did {minutes} minutes of {activity}", "log a {activity} session of {minutes} minutes"}},
	{Domain: "health", Name: "calculate_bmi", Desc: "Calculate body mass index.", Purpose: "calculate BMI",
		Params: []Param{
			{Name: "weight_kg", Kind: Number, Desc: "Weight in kg.", Required: true, Min: 45, Max: 120},
			{Name: "height_m", Kind: Number, Desc: "Height in meters.", Required: true, Min: 1, Max: 1},
		},
		Say:     []string{"calculate my BMI, I weigh {weight_kg} kg and I am {height_m} m tall", "compute the BMI for {weight_kg} kg and {height_m} m", "work out BMI with weight {weight_kg} kg and height {height_m} m"},
		TestSay: []string{"tell me my body mass index at {height_m} m and {weight_kg} kg", "work out my BMI: {weight_kg} kg, {height_m} m"}},
	{Domain: "health", Name: "find_doctor", Desc: "Find a doctor nearby.", Purpose: "find a doctor",
		Params: []Param{
			{Name: "specialty", Kind: Enum, Required: true, Enum: []string{"dentist", "cardiologist", "dermatologist", "pediatrician"}},
			{Name: "city", Kind: String, Required: true, Pool: "city"},
			{Name: "new_patients", Kind: Boolean, Desc: "Only those taking new patients.", Default: false,
				Mods: []string{"who takes new patients", "accepting new patients"}, TestMods: []string{"open to new patients"}},
		},
		Say:     []string{"find a {specialty} in {city}", "look for a {specialty} near {city}", "search for a {specialty} in {city}"},
		TestSay: []string{"recommend a {specialty} around {city}", "find me a {specialty} in the {city} area"}},

	// math
	{Domain: "math", Name: "convert_units", Desc: "Convert a length or weight.", Purpose: "convert units",
		Params: []Param{
			{Name: "value", Kind: Number, Required: true, Min: 1, Max: 500},
			{Name: "from_unit", Kind: Enum, Required: true, Enum: []string{"km", "miles", "kg", "pounds", "meters", "feet"}},
			{Name: "to_unit", Kind: Enum, Required: true, Enum: []string{"km", "miles", "kg", "pounds", "meters", "feet"}},
		},
		Say:     []string{"convert {value} {from_unit} to {to_unit}", "change {value} {from_unit} into {to_unit}", "tell me what {value} {from_unit} is in {to_unit}"},
		TestSay: []string{"express {value} {from_unit} as {to_unit}", "convert {value} {from_unit} into {to_unit}"}},
	{Domain: "math", Name: "calculate_percentage", Desc: "What percent one number is of another.", Purpose: "calculate a percentage",
		Params: []Param{
			{Name: "part", Kind: Number, Required: true, Min: 1, Max: 90},
			{Name: "whole", Kind: Number, Required: true, Min: 100, Max: 900},
		},
		Say:     []string{"calculate what percent {part} is of {whole}", "work out {part} as a percentage of {whole}", "tell me what percentage {part} is of {whole}"},
		TestSay: []string{"find the share of {part} in {whole} in percent", "work out what percentage of {whole} is {part}"}},
}

// Framings wrap one clause, or several joined by connectors, into a request.
var (
	framings     = []string{"Please {c}.", "Can you {c}?", "Could you {c} for me?", "I need you to {c}.", "{C}.", "Hey, {c}, please.", "I'd like you to {c}.", "{C}, thanks."}
	testFramings = []string{"Would you {c}?", "Help me out: {c}.", "Go ahead and {c}."}
	// connectors join two clauses (a and b).
	connectors     = []string{"{a}, and {b}", "{a}. Also {b}", "{a}, then {b}", "{a} and also {b}"}
	testConnectors = []string{"{a}; after that, {b}", "{a}, plus {b}"}
	// same repeats a clause's tool with another value of its first parameter.
	same     = []string{"{a}, and do the same for {v}", "{a}, and also for {v}"}
	testSame = []string{"{a}, and repeat that for {v}"}
)

// Requests no tool serves, and the reply they get.
var (
	chitchat = []string{"Tell me a joke.", "Write a short poem about the sea.", "How do rainbows form?", "What is the meaning of life?",
		"Sing me a song.", "Who won the last world cup?", "Summarize the plot of Hamlet.", "Any advice on learning to paint?",
		"Describe the taste of coffee.", "When did the moon landing happen?"}
	testChitchat = []string{"Can you invent a riddle for me?", "Why is the sky blue?", "Tell me a fun fact about owls."}
)

// pools hold parameter values as the user writes them (the call uses the same text).
var pools = map[string][]string{
	"city": {"Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "Lisbon", "Dublin", "Vienna", "Prague",
		"Oslo", "Stockholm", "Helsinki", "Warsaw", "Athens", "Cairo", "Nairobi", "Lagos", "Mumbai", "Delhi",
		"Bangkok", "Seoul", "Beijing", "Sydney", "Melbourne", "Toronto", "Chicago", "Boston", "Denver", "Seattle",
		"Austin", "Miami", "Lima", "Bogota", "Santiago", "Havana", "Montreal", "Zurich", "Munich", "Milan",
		"Naples", "Porto", "Seville", "Krakow", "Budapest", "Istanbul", "Dubai", "Doha", "Hanoi", "Manila",
		"Osaka", "Kyoto", "Perth", "Auckland", "Vancouver", "Phoenix", "Dallas", "Atlanta", "Geneva", "Bergen"},
	"currency":   {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "INR", "BRL", "MXN"},
	"person":     {"Alice", "Bob", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lena", "Marco", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yusuf", "Zoe", "Anna", "Ben", "Chloe", "Diego", "Emma"},
	"restaurant": {"Golden Fork", "Blue Olive", "Red Lantern", "Green Table", "Little Bistro", "Casa Verde", "Sakura House", "Spice Route", "The Old Mill", "Harbor Grill", "Lemon Tree", "Copper Pot", "Silver Spoon", "Moon Garden", "Urban Kitchen", "Salt and Pepper", "Café Rouge", "Taco Corner", "Noodle Bar", "Pasta Fresca"},
	"dish": {"pad thai", "lasagna", "ramen", "tacos", "paella", "curry", "risotto", "falafel", "pho", "sushi",
		"burrito", "goulash", "moussaka", "pancakes", "pizza", "dumplings", "couscous", "chili", "omelette", "gnocchi"},
	"product": {"wireless earbuds", "phone charger", "coffee grinder", "yoga mat", "desk lamp", "running shoes", "water bottle", "backpack", "keyboard", "monitor",
		"blender", "toaster", "umbrella", "sunglasses", "power bank", "hair dryer", "rice cooker", "webcam", "air fryer", "headphones"},
	"grocery":  {"milk", "eggs", "bread", "apples", "rice", "butter", "cheese", "tomatoes", "onions", "coffee", "tea", "pasta", "yogurt", "bananas", "chicken", "carrots", "honey", "flour"},
	"listname": {"weekend", "party", "camping", "road trip", "workout", "morning", "dinner", "study", "holiday", "summer"},
	"tracking": nil, // generated: letters and digits
	"ticker":   {"AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "NFLX", "IBM", "ORCL", "INTC", "AMD", "UBER", "SHOP", "SAP", "SONY", "KO", "PEP", "NKE", "DIS"},
	"note":     {"rent", "dinner", "thanks", "birthday gift", "concert tickets", "groceries", "taxi", "coffee"},
	"event":    {"team meeting", "dentist visit", "yoga class", "project review", "lunch with Sam", "book club", "piano lesson", "budget call", "standup", "board meeting"},
	"chore":    {"call mom", "water the plants", "take out the trash", "pay the bills", "walk the dog", "buy milk", "back up my laptop", "stretch", "drink water", "feed the cat"},
	"email":    nil, // generated: person@example.com
	"subject":  {"the quarterly report", "lunch plans", "the contract", "our trip", "the invoice", "next steps", "the launch", "the budget", "the interview", "the party"},
	"phrase":   {"good morning", "where is the station", "thank you very much", "how much does it cost", "I am lost", "see you tomorrow", "the bill please", "happy birthday", "nice to meet you", "one coffee please"},
	"song":     {"Blue Horizon", "Midnight Train", "Golden Days", "Paper Hearts", "Silver Rain", "Wild River", "Neon Lights", "Summer Wind", "Broken Clocks", "Ocean Eyes", "Fire Escape", "Quiet Storm", "Northern Sky", "Velvet Moon", "Open Road"},
	"artist":   {"The Lumens", "Nora Vale", "Static Bloom", "Kai Rivers", "Moonlit Choir", "Ada Stone", "Echo Park", "Leo Marsh", "June Harbor", "Glass Animals"},
	"room":     {"kitchen", "bedroom", "office", "bathroom", "hallway", "garage", "nursery", "basement", "living room", "dining room"},
	"date":     nil, // generated: YYYY-MM-DD in 2025-2026
	"time":     nil, // generated: HH:MM
}
