package akeneofake

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// IdentifierAttribute is the code of the seeded PIM's identifier attribute,
// Akeneo's default.
const IdentifierAttribute = "sku"

// The seeded PIM's locales and channels.
var (
	seedLocales = []string{"en_US", "de_DE", "fr_FR"}
	seedScopes  = []string{"ecommerce", "print"}
)

// seedLacksSKU tells the products seeded without an sku value, as products
// whose identifier was never filled in: every 101st (index 100, 201, …).
func seedLacksSKU(i int) bool { return (i+1)%101 == 0 }

// seedBrokenImage tells the products seeded with an image whose file is
// missing from the media storage, so that its download answers 404: the
// 14th and every 500th after it (index 13, 513, 1013, …).
func seedBrokenImage(i int) bool { return i%500 == 13 }

// seedEpoch is when the seeded PIM's history starts; every date of the seed
// follows from it, never from the clock.
var seedEpoch = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// translation is a word in the seeded locales, in seedLocales' order.
type translation [3]string

func (t translation) labels() map[string]string {
	return map[string]string{"en_US": t[0], "de_DE": t[1], "fr_FR": t[2]}
}

// seedNode is a category of the template tree each seeded root repeats.
type seedNode struct {
	word     string
	label    translation
	children []seedNode
}

func node(word string, en, de, fr string, children ...seedNode) seedNode {
	return seedNode{word: word, label: translation{en, de, fr}, children: children}
}

var (
	// seedRoots are the seeded category trees; a root's categories have
	// codes that start with its prefix.
	seedRoots = []struct {
		code, prefix string
		label        translation
	}{
		{"master", "", translation{"Master catalog", "Hauptkatalog", "Catalogue principal"}},
		{"winter_collection", "winter_", translation{"Winter collection", "Winterkollektion", "Collection hiver"}},
		{"summer_collection", "summer_", translation{"Summer collection", "Sommerkollektion", "Collection été"}},
	}

	// seedDepartments are the tree under each root: departments, their
	// categories, and those categories' own, three levels in all.
	seedDepartments = []seedNode{
		node("men", "Men", "Herren", "Homme",
			node("tops", "Tops", "Oberteile", "Hauts",
				node("t_shirts", "T-shirts", "T-Shirts", "T-shirts"),
				node("shirts", "Shirts", "Hemden", "Chemises"),
				node("sweaters", "Sweaters", "Pullover", "Pulls")),
			node("bottoms", "Bottoms", "Hosen", "Bas",
				node("jeans", "Jeans", "Jeans", "Jeans"),
				node("trousers", "Trousers", "Stoffhosen", "Pantalons"),
				node("shorts", "Shorts", "Shorts", "Shorts")),
			node("outerwear", "Outerwear", "Jacken & Mäntel", "Vestes et manteaux",
				node("jackets", "Jackets", "Jacken", "Vestes"),
				node("coats", "Coats", "Mäntel", "Manteaux"))),
		node("women", "Women", "Damen", "Femme",
			node("tops", "Tops", "Oberteile", "Hauts",
				node("t_shirts", "T-shirts", "T-Shirts", "T-shirts"),
				node("blouses", "Blouses", "Blusen", "Chemisiers"),
				node("sweaters", "Sweaters", "Pullover", "Pulls")),
			node("bottoms", "Bottoms", "Hosen & Röcke", "Bas",
				node("jeans", "Jeans", "Jeans", "Jeans"),
				node("skirts", "Skirts", "Röcke", "Jupes"),
				node("trousers", "Trousers", "Stoffhosen", "Pantalons")),
			node("dresses", "Dresses", "Kleider", "Robes"),
			node("outerwear", "Outerwear", "Jacken & Mäntel", "Vestes et manteaux",
				node("jackets", "Jackets", "Jacken", "Vestes"),
				node("coats", "Coats", "Mäntel", "Manteaux"))),
		node("kids", "Kids", "Kinder", "Enfant",
			node("tops", "Tops", "Oberteile", "Hauts",
				node("t_shirts", "T-shirts", "T-Shirts", "T-shirts"),
				node("sweaters", "Sweaters", "Pullover", "Pulls")),
			node("bottoms", "Bottoms", "Hosen", "Bas",
				node("jeans", "Jeans", "Jeans", "Jeans"),
				node("shorts", "Shorts", "Shorts", "Shorts"))),
		node("shoes", "Shoes", "Schuhe", "Chaussures",
			node("sneakers", "Sneakers", "Sneaker", "Baskets",
				node("running", "Running", "Laufschuhe", "Running"),
				node("lifestyle", "Lifestyle", "Lifestyle", "Lifestyle")),
			node("boots", "Boots", "Stiefel", "Bottes",
				node("ankle_boots", "Ankle boots", "Stiefeletten", "Bottines"),
				node("hiking_boots", "Hiking boots", "Wanderschuhe", "Chaussures de randonnée")),
			node("sandals", "Sandals", "Sandalen", "Sandales")),
		node("accessories", "Accessories", "Accessoires", "Accessoires",
			node("bags", "Bags", "Taschen", "Sacs",
				node("backpacks", "Backpacks", "Rucksäcke", "Sacs à dos"),
				node("wallets", "Wallets", "Geldbörsen", "Portefeuilles")),
			node("headwear", "Headwear", "Kopfbedeckungen", "Couvre-chefs",
				node("caps", "Caps", "Kappen", "Casquettes"),
				node("beanies", "Beanies", "Mützen", "Bonnets")),
			node("scarves", "Scarves", "Schals", "Écharpes"),
			node("belts", "Belts", "Gürtel", "Ceintures")),
	}

	// seedFamilyDepartments are the departments whose categories a
	// family's products are put in.
	seedFamilyDepartments = map[string][]string{
		"clothing":    {"men", "women", "kids"},
		"shoes":       {"shoes"},
		"accessories": {"accessories"},
	}

	// seedFamilies are the product families, with their kinds of product,
	// sizes and prices.
	seedFamilies = []struct {
		code     string
		weight   int // how often, out of 10
		nouns    []seedNoun
		sizes    []string
		minPrice int // in cents
		maxPrice int
		grams    [2]int
	}{
		{"clothing", 5, []seedNoun{
			{"tshirt", translation{"T-Shirt", "T-Shirt", "T-shirt"}},
			{"sweater", translation{"Sweater", "Pullover", "Pull"}},
			{"jacket", translation{"Jacket", "Jacke", "Veste"}},
			{"jeans", translation{"Jeans", "Jeans", "Jean"}},
			{"hoodie", translation{"Hoodie", "Kapuzenpullover", "Sweat à capuche"}},
			{"shirt", translation{"Shirt", "Hemd", "Chemise"}},
		}, []string{"xs", "s", "m", "l", "xl"}, 1990, 12990, [2]int{150, 1200}},
		{"shoes", 3, []seedNoun{
			{"sneakers", translation{"Sneakers", "Sneaker", "Baskets"}},
			{"boots", translation{"Boots", "Stiefel", "Bottes"}},
			{"sandals", translation{"Sandals", "Sandalen", "Sandales"}},
			{"running_shoes", translation{"Running Shoes", "Laufschuhe", "Chaussures de course"}},
		}, []string{"size_38", "size_39", "size_40", "size_41", "size_42", "size_43", "size_44", "size_45"}, 4990, 18990, [2]int{500, 1600}},
		{"accessories", 2, []seedNoun{
			{"cap", translation{"Cap", "Kappe", "Casquette"}},
			{"scarf", translation{"Scarf", "Schal", "Écharpe"}},
			{"belt", translation{"Belt", "Gürtel", "Ceinture"}},
			{"backpack", translation{"Backpack", "Rucksack", "Sac à dos"}},
			{"wallet", translation{"Wallet", "Geldbörse", "Portefeuille"}},
		}, nil, 990, 7990, [2]int{50, 900}},
	}

	// seedLines are the product lines, names that are not translated.
	seedLines = []string{"Alpine", "Harbor", "Metro", "Nordic", "Summit", "Coastal", "Urban", "Heritage", "Fjord", "Canyon"}

	seedColors = []struct {
		code  string
		label translation
	}{
		{"black", translation{"Black", "Schwarz", "noir"}},
		{"white", translation{"White", "Weiß", "blanc"}},
		{"navy", translation{"Navy", "Marineblau", "marine"}},
		{"red", translation{"Red", "Rot", "rouge"}},
		{"green", translation{"Green", "Grün", "vert"}},
		{"grey", translation{"Grey", "Grau", "gris"}},
		{"beige", translation{"Beige", "Beige", "beige"}},
	}

	seedPitch = translation{
		"Made to last, easy to care for and cut for everyday comfort.",
		"Langlebig, pflegeleicht und bequem für jeden Tag.",
		"Conçu pour durer, facile d'entretien et confortable au quotidien.",
	}
)

type seedNoun struct {
	code  string
	label translation
}

// seedAttributes are the seeded PIM's attributes.
var seedAttributes = map[string]Attribute{
	IdentifierAttribute: {Code: IdentifierAttribute, Type: TypeIdentifier},
	"name":              {Code: "name", Type: TypeText, Localizable: true},
	"description":       {Code: "description", Type: TypeTextarea, Localizable: true, Scopable: true},
	"price":             {Code: "price", Type: TypePriceCollection},
	"color":             {Code: "color", Type: TypeSimpleSelect},
	"size":              {Code: "size", Type: TypeSimpleSelect},
	"weight":            {Code: "weight", Type: TypeMetric},
	"image":             {Code: "image", Type: TypeImage},
	"image_back":        {Code: "image_back", Type: TypeImage},
}

// Seed returns a PIM catalog drawn from seed: the same seed and sizes give
// the same catalog, byte for byte.
//
// The category tree has up to three roots (master, winter_collection,
// summer_collection), each with departments (men, women, kids, shoes,
// accessories), their categories and those categories' own: three levels,
// labelled in en_US, de_DE and fr_FR; 150 categories fill the template.
// Products belong to the families clothing, shoes and accessories, each in
// 1 to 3 categories of its departments, and have an sku, a name per locale, a
// description per locale and channel (ecommerce in HTML, print in plain
// text), a price in EUR and USD, a color, a size (not accessories), a
// weight, and usually an image (9 in 10; a quarter of those a second one,
// image_back). About 1 in 10 is disabled, and about a third of the
// clothing and shoes are variants of a product model.
//
// Some products are imperfect on purpose, by index in Products: every
// 101st (index 100, 201, …) has no sku, and the 14th and every 500th after
// it (index 13, 513, 1013, …) has an image whose download answers 404.
// Seed(1, 2000, 150) is the sandbox's catalog: 19 products without an sku,
// 4 broken images.
func Seed(seed int64, products, categories int) Catalog {
	r := rand.New(rand.NewPCG(uint64(seed), 0x616b656e656f)) // "akeneo"
	tree, departmentOf := seedCategories(r, categories)
	c := Catalog{
		Attributes: maps.Clone(seedAttributes),
		Categories: tree,
		MediaFiles: map[string]MediaFile{},
	}
	// A family's products go in its departments' categories, or anywhere
	// below a root if the tree is too small to have them.
	candidates := map[string][]string{}
	for _, cat := range tree {
		for family, departments := range seedFamilyDepartments {
			if slices.Contains(departments, departmentOf[cat.Code]) {
				candidates[family] = append(candidates[family], cat.Code)
			}
		}
	}
	var anywhere []string
	for _, cat := range tree {
		if cat.Parent != "" || len(tree) <= len(seedRoots) {
			anywhere = append(anywhere, cat.Code)
		}
	}
	for family := range seedFamilyDepartments {
		if len(candidates[family]) == 0 {
			candidates[family] = anywhere
		}
	}
	for i := range products {
		c.Products = append(c.Products, seedProduct(r, seed, i, candidates, c.MediaFiles))
	}
	return c
}

// seedCategories grows the template tree under each root until there are n
// categories. Each round gives every category one more of its template
// children, so even a small tree is three levels deep; past the template,
// departments get numbered product lines. It returns the categories in tree
// order and the department of each.
func seedCategories(r *rand.Rand, n int) ([]Category, map[string]string) {
	type growing struct {
		prefix     string
		template   []seedNode // the children still to add
		department string
	}
	var categories []Category
	state := map[string]*growing{}
	for _, root := range seedRoots[:min(n, len(seedRoots))] {
		categories = append(categories, Category{Code: root.code, Labels: root.label.labels(), Updated: seedDate(r, 0, 30)})
		state[root.code] = &growing{prefix: root.prefix, template: seedDepartments}
	}
	for grew := true; grew && len(categories) < n; {
		grew = false
		for i := 0; i < len(categories) && len(categories) < n; i++ {
			parent := state[categories[i].Code]
			if len(parent.template) == 0 {
				continue
			}
			child := parent.template[0]
			parent.template = parent.template[1:]
			code := parent.prefix + child.word
			department := parent.department
			if department == "" {
				department = child.word
			}
			categories = append(categories, Category{Code: code, Parent: categories[i].Code, Labels: child.label.labels(), Updated: seedDate(r, 0, 60)})
			state[code] = &growing{prefix: code + "_", template: child.children, department: department}
			grew = true
		}
	}
	var departments []Category
	for _, c := range categories {
		if c.Parent != "" && state[c.Parent].department == "" {
			departments = append(departments, c)
		}
	}
	for line := 1; len(categories) < n && len(departments) > 0; line++ {
		for _, d := range departments[:min(len(departments), n-len(categories))] {
			categories = append(categories, Category{
				Code:    fmt.Sprintf("%s_line_%d", d.Code, line),
				Parent:  d.Code,
				Labels:  translation{fmt.Sprintf("Line %d", line), fmt.Sprintf("Linie %d", line), fmt.Sprintf("Ligne %d", line)}.labels(),
				Updated: seedDate(r, 0, 60),
			})
			state[categories[len(categories)-1].Code] = &growing{department: state[d.Code].department}
		}
	}
	departmentOf := map[string]string{}
	for code, g := range state {
		departmentOf[code] = g.department
	}
	return treeOrder(categories), departmentOf
}

func seedProduct(r *rand.Rand, seed int64, i int, categoriesOf map[string][]string, media map[string]MediaFile) Product {
	var id uuid.UUID
	for j := range id {
		id[j] = byte(r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant

	family := seedFamilies[len(seedFamilies)-1]
	pick := r.IntN(10)
	for _, f := range seedFamilies {
		if pick < f.weight {
			family = f
			break
		}
		pick -= f.weight
	}
	noun := family.nouns[r.IntN(len(family.nouns))]
	line := seedLines[r.IntN(len(seedLines))]
	color := seedColors[r.IntN(len(seedColors))]
	sku := fmt.Sprintf("%s-%05d", strings.ToUpper(family.code[:3]), i+1)

	p := Product{
		UUID:    id.String(),
		Enabled: r.IntN(10) != 0,
		Family:  family.code,
		Values:  map[string][]Value{},
	}
	p.Created = seedDate(r, 0, 120)
	p.Updated = p.Created.Add(time.Duration(r.IntN(60*24*3600)) * time.Second)
	if family.code != "accessories" && r.IntN(3) == 0 {
		p.Parent = strings.ToLower(line) + "_" + noun.code
	}
	categoryCodes := categoriesOf[family.code]
	for range 1 + r.IntN(3) {
		if len(categoryCodes) == 0 {
			break
		}
		code := categoryCodes[r.IntN(len(categoryCodes))]
		if !slices.Contains(p.Categories, code) {
			p.Categories = append(p.Categories, code)
		}
	}

	if !seedLacksSKU(i) {
		p.Values[IdentifierAttribute] = []Value{{Data: jsonOf(sku)}}
	}
	for l, locale := range seedLocales {
		name := fmt.Sprintf("%s %s, %s", line, noun.label[l], color.label[l])
		if locale == "fr_FR" {
			name = fmt.Sprintf("%s %s, %s", noun.label[l], line, color.label[l])
		}
		p.Values["name"] = append(p.Values["name"], Value{Locale: locale, Data: jsonOf(name)})
		for _, scope := range seedScopes {
			text := name + ". " + seedPitch[l]
			if scope == "ecommerce" {
				text = "<p><strong>" + name + "</strong></p><p>" + seedPitch[l] + "</p>"
			}
			p.Values["description"] = append(p.Values["description"], Value{Locale: locale, Scope: scope, Data: jsonOf(text)})
		}
	}
	cents := family.minPrice + 100*r.IntN((family.maxPrice-family.minPrice)/100+1)
	p.Values["price"] = []Value{{Data: jsonOf([]map[string]string{
		{"amount": fmt.Sprintf("%d.%02d", cents/100, cents%100), "currency": "EUR"},
		{"amount": fmt.Sprintf("%d.%02d", cents*11/1000, 90), "currency": "USD"},
	})}}
	p.Values["color"] = []Value{{Data: jsonOf(color.code)}}
	if len(family.sizes) > 0 {
		p.Values["size"] = []Value{{Data: jsonOf(family.sizes[r.IntN(len(family.sizes))])}}
	}
	grams := family.grams[0] + r.IntN(family.grams[1]-family.grams[0]+1)
	p.Values["weight"] = []Value{{Data: jsonOf(map[string]string{
		"amount": fmt.Sprintf("%d.%04d", grams/1000, grams%1000*10),
		"unit":   "KILOGRAM",
	})}}

	hasImage := r.IntN(10) != 0 || seedBrokenImage(i)
	hasBack := r.IntN(4) == 0
	if hasImage {
		code := seedMediaCode(seed, p.UUID, "image", sku, i)
		p.Values["image"] = []Value{{Data: jsonOf(code)}}
		if !seedBrokenImage(i) {
			media[code] = MediaFile{Code: code, OriginalFilename: seedFilename(sku, i, "front"), Width: 64, Height: 64}
		}
		if hasBack {
			back := seedMediaCode(seed, p.UUID, "image_back", sku, i)
			p.Values["image_back"] = []Value{{Data: jsonOf(back)}}
			media[back] = MediaFile{Code: back, OriginalFilename: seedFilename(sku, i, "back"), Width: 64, Height: 64}
		}
	}
	return p
}

// seedMediaCode is a media file code shaped as Akeneo's storage names them:
// four directories from the file's hash, then the hash and the file name.
func seedMediaCode(seed int64, productUUID, attribute, sku string, i int) string {
	sum := sha1.Sum(fmt.Appendf(nil, "%d/%s/%s", seed, productUUID, attribute))
	hash := hex.EncodeToString(sum[:])
	side := "front"
	if attribute == "image_back" {
		side = "back"
	}
	return fmt.Sprintf("%c/%c/%c/%c/%s_%s", hash[0], hash[1], hash[2], hash[3], hash, seedFilename(sku, i, side))
}

func seedFilename(sku string, i int, side string) string {
	if sku == "" {
		sku = fmt.Sprintf("product-%05d", i+1)
	}
	return strings.ToLower(sku) + "_" + side + ".png"
}

// seedDate is a date between fromDays and toDays after the seed's epoch, in
// whole seconds as Akeneo keeps them.
func seedDate(r *rand.Rand, fromDays, toDays int) time.Time {
	seconds := fromDays*24*3600 + r.IntN((toDays-fromDays)*24*3600+1)
	return seedEpoch.Add(time.Duration(seconds) * time.Second)
}

func jsonOf(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic("akeneofake: seeding a value that cannot be encoded: " + err.Error())
	}
	return data
}
