package shopifyfake

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The seeded catalog's deliberate oddities, by product index (0-based, in
// id order). Tests find them from the data with ProductsWithoutSKU,
// ProductsWithBrokenImages and ProductsWithMoreVariantsThan.
const (
	// manyVariantsProduct has 144 variants (12 sizes × 12 colours): more
	// than a client's first page of variants, so its import needs nested
	// pagination.
	manyVariantsProduct = 2
	// Products noSKUFirst, noSKUFirst+noSKUEvery, ... have no SKU on any
	// variant (5 of Seed(…, 500, …)): the import must report them.
	noSKUFirst, noSKUEvery = 5, 97
	// Products brokenImageFirst, brokenImageFirst+brokenImageEvery, ... have
	// a last image whose URL answers 404 (2 of Seed(…, 500, …)).
	brokenImageFirst, brokenImageEvery = 11, 250
)

// The seeded products were created and last updated between these dates;
// collections were last updated in the last two years of it.
var (
	seedStart = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	seedEnd   = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
)

// Seed returns a store of products and collections drawn from seed: the
// same arguments always give the same catalog. It looks like a small
// apparel and home-goods shop: titles such as "Organic Cotton Tee", HTML
// descriptions, Color and Size options with 1 to 12 variants (SKUs such as
// "OCT-BLK-M", decimal-string prices, some compare-at prices, inventory,
// barcodes), 1 to 4 images, and collections, a third of them smart (tag
// rules, some disjunctive) and the rest custom, each product in 1 to 3 of
// them. The oddities an import must survive are placed on purpose, by
// index in id order:
//
//   - product 2 has 144 variants (12 sizes × 12 colours), so its import
//     needs nested pagination;
//   - products 5, 102, 199, … (every 97th from 5) have no SKU on any
//     variant: 5 of 500;
//   - products 11, 261, … (every 250th from 11) have a last image whose URL
//     answers 404: 2 of 500.
//
// ProductsWithMoreVariantsThan, ProductsWithoutSKU and
// ProductsWithBrokenImages find them from the data.
func Seed(seed int64, products, collections int) Catalog {
	g := &seeder{
		rng:           rand.New(rand.NewPCG(uint64(seed), 0x73686f70)),
		titles:        map[string]bool{},
		handles:       map[string]bool{},
		skuPrefixes:   map[string]bool{},
		nextVariantID: 44_000_000_000_000,
		nextImageID:   31_000_000_000_000,
	}
	c := Catalog{Name: shopNames[g.rng.IntN(len(shopNames))], Plan: "Shopify", Currency: "USD"}
	for j := range collections {
		c.Collections = append(c.Collections, g.collection(j))
	}
	for i := range products {
		c.Products = append(c.Products, g.product(i))
	}
	g.placeInCollections(&c)
	return c
}

type family struct {
	productType        string
	vendors            []string
	materials          []string
	items              []string
	sizes              []string // a run of them is offered; nil: no Size option
	colors             bool
	minPrice, maxPrice int // whole dollars
	care               string
}

var apparelSizes = []string{"XS", "S", "M", "L", "XL", "XXL"}

var families = []family{
	{"T-Shirts", []string{"Northwind Apparel", "Harbor & Pine"}, []string{"Organic Cotton", "Slub Cotton", "Hemp Blend", "Recycled Cotton", "Pima Cotton"},
		[]string{"Tee", "Pocket Tee", "Long Sleeve Tee", "Ringer Tee", "Henley"}, apparelSizes, true, 18, 48, "Machine wash cold, tumble dry low."},
	{"Sweaters", []string{"Northwind Apparel", "Fjell Goods"}, []string{"Merino Wool", "Lambswool", "Cashmere Blend", "Cotton Cable"},
		[]string{"Crewneck Sweater", "Cardigan", "Quarter-Zip", "Turtleneck"}, apparelSizes, true, 68, 180, "Hand wash cold, dry flat."},
	{"Hats", []string{"Fjell Goods", "Harbor & Pine"}, []string{"Merino Wool", "Waxed Canvas", "Organic Cotton", "Corduroy"},
		[]string{"Beanie", "Bucket Hat", "Baseball Cap"}, nil, true, 22, 48, "Spot clean only."},
	{"Socks", []string{"Fjell Goods", "Little Fern"}, []string{"Merino Wool", "Bamboo", "Organic Cotton"},
		[]string{"Crew Socks", "Hiking Socks", "Ankle Socks"}, []string{"S/M", "L/XL"}, true, 9, 26, "Machine wash warm, inside out."},
	{"Pillows", []string{"Terra Home Co.", "Oakhaus"}, []string{"Linen", "Boucle", "Velvet", "Wool"},
		[]string{"Throw Pillow", "Lumbar Pillow"}, []string{`18" x 18"`, `20" x 20"`, `14" x 22"`}, true, 38, 95, "Remove the insert and dry clean the cover."},
	{"Blankets", []string{"Terra Home Co.", "Oakhaus"}, []string{"Alpaca", "Cotton Waffle", "Wool", "Linen"},
		[]string{"Throw Blanket", "Knit Blanket"}, nil, true, 85, 240, "Dry clean or hand wash cold."},
	{"Mugs", []string{"Salt & Stone"}, []string{"Stoneware", "Ceramic", "Enamel"},
		[]string{"Mug", "Pour-Over Mug", "Espresso Cup"}, nil, true, 14, 38, "Dishwasher and microwave safe."},
	{"Candles", []string{"Salt & Stone", "Little Fern"}, []string{"Soy Wax", "Beeswax", "Coconut Wax"},
		[]string{"Candle", "Travel Candle"}, []string{"8 oz", "12 oz"}, false, 18, 48, `Trim the wick to 1/4" before each burn.`},
	{"Towels", []string{"Terra Home Co.", "Salt & Stone"}, []string{"Turkish Cotton", "Linen", "Waffle Cotton"},
		[]string{"Bath Towel", "Hand Towel", "Tea Towel"}, nil, true, 12, 64, "Machine wash warm, tumble dry low."},
}

// sneakers is the family of the many-variants product.
var sneakers = family{"Shoes", []string{"Fjell Goods"}, []string{"Recycled Mesh"}, []string{"Trail Sneaker"},
	[]string{"36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47"}, true, 120, 160, "Wipe clean with a damp cloth."}

type color struct{ name, code string }

var palette = []color{
	{"Black", "BLK"}, {"White", "WHT"}, {"Navy", "NVY"}, {"Oatmeal", "OAT"}, {"Sage", "SGE"}, {"Rust", "RST"},
	{"Charcoal", "CHR"}, {"Sand", "SND"}, {"Olive", "OLV"}, {"Terracotta", "TER"}, {"Slate", "SLT"}, {"Cream", "CRM"},
}

var (
	shopNames   = []string{"Harbor & Pine Supply Co.", "Fernwood General Store", "Saltmarsh Goods", "Northwind Home & Apparel"}
	descriptors = []string{"Everyday", "Classic", "Heavyweight", "Lightweight", "Relaxed", "Essential", "Coastal", "Nordic", "Heritage", "Studio", "Weekend", "Alpine"}
	// Product tags. Smart collections select by tags of their own (see
	// smartThemes), so no product lands in one by chance.
	tagVocabulary = []string{"organic", "recycled", "handmade", "fair-trade", "machine-washable", "made-in-portugal",
		"made-in-lithuania", "vegan", "limited-edition", "gift-wrap-available", "plastic-free", "small-batch"}
	pitches = []string{
		"Our %s is made to be used every day and loved for years.",
		"The %s brings quiet, lasting comfort to everyday routines.",
		"Made in small batches, the %s is built to outlast the season.",
		"A customer favorite, the %s pairs honest materials with a clean design.",
	}
	collectionBlurbs = []string{
		"Hand-picked by our team.", "Pieces we reach for again and again.", "Limited quantities, while they last.",
		"Thoughtful goods for slow mornings.", "Made with materials we trust.",
	}
)

// smartThemes are the smart collections: products tagged tag (or, for a
// disjunctive one, alternativeTag) belong to them.
var smartThemes = []struct{ title, tag, alternativeTag string }{
	{"New Arrivals", "new-arrival", ""},
	{"Sale", "sale", "clearance"},
	{"Summer Edit", "summer-edit", ""},
	{"Gift Guide", "gift-guide", "gift-idea"},
	{"Staff Picks", "staff-pick", ""},
	{"Back in Stock", "back-in-stock", "restocked"},
	{"Cozy Season", "cozy-season", ""},
	{"Holiday Shop", "holiday", "holiday-exclusive"},
	{"Bestsellers", "bestseller", ""},
	{"Work From Home", "wfh", "home-office"},
	{"Travel Light", "travel-light", ""},
	{"Last Chance", "last-chance", "final-sale"},
	{"Weekend Getaway", "weekend-getaway", ""},
	{"Eco Edit", "eco-edit", "low-impact"},
}

var customThemes = []string{
	"Homepage", "Featured", "Tees & Tops", "Knitwear", "Accessories", "Home Textiles", "Kitchen & Dining", "Bath",
	"Gifts Under $50", "Gifts for Him", "Gifts for Her", "Cabin Weekend", "Studio Collection", "Coastal Living",
	"The Linen Shop", "The Wool Shop", "Everyday Basics", "Press Favorites", "Spring Lookbook", "Fall Lookbook",
	"Warehouse Finds", "Wedding Registry", "Nursery", "Outdoor", "Travel Kit", "Desk Essentials", "Matching Sets", "Collaborations",
}

var imageSizes = [][2]int{{480, 480}, {600, 600}, {640, 800}, {720, 720}}

type seeder struct {
	rng                          *rand.Rand
	titles, handles, skuPrefixes map[string]bool
	nextVariantID, nextImageID   int64
	smartCount, customCount      int
}

func pick[T any](g *seeder, from []T) T { return from[g.rng.IntN(len(from))] }

func (g *seeder) product(i int) Product {
	fam := pick(g, families)
	if i == manyVariantsProduct {
		fam = sneakers
	}
	material := pick(g, fam.materials)
	base := material + " " + pick(g, fam.items)
	title := g.title(base)
	p := Product{
		ID:          8_000_000_000_000 + int64(i)*100 + g.rng.Int64N(100),
		Title:       title,
		Handle:      g.handle(title),
		Vendor:      pick(g, fam.vendors),
		ProductType: fam.productType,
		Status:      g.status(),
		Tags:        g.tags(),
	}
	p.DescriptionHTML = fmt.Sprintf("<p>%s</p><ul><li>Made from %s.</li><li>%s</li></ul>",
		fmt.Sprintf(pick(g, pitches), title), strings.ToLower(material), fam.care)
	created := seedStart.Add(g.duration(seedEnd.Sub(seedStart)))
	p.CreatedAt, p.UpdatedAt = created, created.Add(g.duration(seedEnd.Sub(created)))

	sizes, colors := g.optionValues(fam, i == manyVariantsProduct)
	var images []Image
	imageCount := 1 + g.rng.IntN(4)
	if i == manyVariantsProduct {
		imageCount = 4
	}
	withAlt := g.rng.IntN(10) < 7
	for k := range imageCount {
		size := pick(g, imageSizes)
		img := Image{ID: g.nextImageID, File: fmt.Sprintf("%s-%d", p.Handle, k+1), Width: size[0], Height: size[1], Version: 1}
		g.nextImageID++
		if withAlt {
			img.Alt = title
			if len(colors) > 0 {
				img.Alt += " in " + colors[k%len(colors)].name
			}
		}
		images = append(images, img)
	}
	if i%brokenImageEvery == brokenImageFirst {
		images[len(images)-1].Broken = true
	}
	p.Images = images
	p.Options, p.Variants = g.variants(fam, base, sizes, colors, images, i%noSKUEvery != noSKUFirst)
	return p
}

func (g *seeder) title(base string) string {
	for attempt := range 8 {
		t := base
		if attempt > 0 || g.rng.IntN(2) == 0 {
			t = pick(g, descriptors) + " " + base
		}
		if !g.titles[t] {
			g.titles[t] = true
			return t
		}
	}
	for n := 2; ; n++ {
		if t := fmt.Sprintf("%s No. %d", base, n); !g.titles[t] {
			g.titles[t] = true
			return t
		}
	}
}

// handle makes Shopify's URL handle of a title, unique in the shop.
func (g *seeder) handle(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.ReplaceAll(title, "&", "and")) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	handle := strings.TrimSuffix(b.String(), "-")
	for n, h := 2, handle; ; n++ {
		if !g.handles[h] {
			g.handles[h] = true
			return h
		}
		h = fmt.Sprintf("%s-%d", handle, n)
	}
}

func (g *seeder) status() string {
	switch n := g.rng.IntN(20); {
	case n < 17:
		return "ACTIVE"
	case n < 19:
		return "DRAFT"
	}
	return "ARCHIVED"
}

func (g *seeder) tags() []string {
	var tags []string
	for _, k := range g.rng.Perm(len(tagVocabulary))[:1+g.rng.IntN(3)] {
		tags = append(tags, tagVocabulary[k])
	}
	slices.Sort(tags)
	return tags
}

// duration returns a whole number of seconds in [0, d).
func (g *seeder) duration(d time.Duration) time.Duration {
	if d < time.Second {
		return 0
	}
	return time.Duration(g.rng.Int64N(int64(d/time.Second))) * time.Second
}

// optionValues picks the sizes and colours a product comes in: at most 4
// sizes and 3 colours, so at most 12 variants, except for the
// many-variants product, which has every one.
func (g *seeder) optionValues(fam family, every bool) ([]string, []color) {
	if every {
		return fam.sizes, palette
	}
	var sizes []string
	if fam.sizes != nil {
		n := 1 + g.rng.IntN(min(4, len(fam.sizes)))
		start := g.rng.IntN(len(fam.sizes) - n + 1)
		sizes = fam.sizes[start : start+n]
	}
	var colors []color
	if fam.colors && (sizes != nil || g.rng.IntN(4) > 0) {
		for _, k := range g.rng.Perm(len(palette))[:1+g.rng.IntN(3)] {
			colors = append(colors, palette[k])
		}
	}
	return sizes, colors
}

func (g *seeder) variants(fam family, base string, sizes []string, colors []color, images []Image, withSKUs bool) ([]Option, []Variant) {
	prefix := g.skuPrefix(base)
	dollars := fam.minPrice + g.rng.IntN(fam.maxPrice-fam.minPrice+1)
	cents := dollars*100 + []int{0, 0, 50, 95, 0}[g.rng.IntN(5)]
	onSale := g.rng.IntN(5) == 0
	withBarcodes := g.rng.IntN(4) > 0

	var options []Option
	colorValues := []*color{nil}
	if len(colors) > 0 {
		colorValues = nil
		option := Option{Name: "Color"}
		for k := range colors {
			option.Values = append(option.Values, colors[k].name)
			colorValues = append(colorValues, &colors[k])
		}
		options = append(options, option)
	}
	sizeValues := []string{""}
	if len(sizes) > 0 {
		sizeValues = sizes
		options = append(options, Option{Name: "Size", Values: slices.Clone(sizes)})
	}
	if len(options) == 0 {
		options = []Option{{Name: "Title", Values: []string{"Default Title"}}}
	}

	var variants []Variant
	for k, c := range colorValues {
		for _, size := range sizeValues {
			v := Variant{ID: g.nextVariantID}
			g.nextVariantID += 1 + g.rng.Int64N(3)
			var titleParts, skuParts []string
			skuParts = append(skuParts, prefix)
			if c != nil {
				titleParts = append(titleParts, c.name)
				skuParts = append(skuParts, c.code)
				v.SelectedOptions = append(v.SelectedOptions, SelectedOption{"Color", c.name})
				if len(colors) > 1 && len(images) > 1 {
					v.ImageID = images[k%len(images)].ID
				}
			}
			if size != "" {
				titleParts = append(titleParts, size)
				skuParts = append(skuParts, sizeCode(size))
				v.SelectedOptions = append(v.SelectedOptions, SelectedOption{"Size", size})
			}
			if len(titleParts) == 0 {
				titleParts = []string{"Default Title"}
				v.SelectedOptions = []SelectedOption{{"Title", "Default Title"}}
			}
			v.Title = strings.Join(titleParts, " / ")
			if withSKUs {
				v.SKU = strings.Join(skuParts, "-")
			}
			price := cents
			if size == "XXL" {
				price += 200
			}
			v.Price = money(price)
			if onSale {
				v.CompareAtPrice = money((price*5/4 + 99) / 100 * 100)
			}
			if withBarcodes {
				v.Barcode = g.ean13()
			}
			if g.rng.IntN(10) > 0 {
				v.InventoryQuantity = 1 + g.rng.IntN(120)
			}
			variants = append(variants, v)
		}
	}
	return options, variants
}

// skuPrefix makes a product's SKU prefix from its name's initials
// ("Organic Cotton Tee" → "OCT"), numbered when another product has it.
func (g *seeder) skuPrefix(base string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(base, func(r rune) bool { return r == ' ' || r == '-' }) {
		b.WriteString(strings.ToUpper(word[:1]))
	}
	prefix := b.String()
	for n, p := 2, prefix; ; n++ {
		if !g.skuPrefixes[p] {
			g.skuPrefixes[p] = true
			return p
		}
		p = fmt.Sprintf("%s%d", prefix, n)
	}
}

// sizeCode is a size as a SKU writes it: `18" x 18"` → 18X18, "S/M" → SM.
func sizeCode(size string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(size) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func money(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// ean13 returns a random EAN-13 barcode with a valid check digit.
func (g *seeder) ean13() string {
	digits := make([]byte, 13)
	sum := 0
	for k := range 12 {
		d := g.rng.IntN(10)
		digits[k] = byte('0' + d)
		if k%2 == 1 {
			d *= 3
		}
		sum += d
	}
	digits[12] = byte('0' + (10-sum%10)%10)
	return string(digits)
}

func (g *seeder) collection(j int) Collection {
	c := Collection{
		ID:              450_000_000_000 + int64(j)*10 + g.rng.Int64N(10),
		DescriptionHTML: "<p>" + pick(g, collectionBlurbs) + "</p>",
	}
	if j%3 == 1 {
		theme := smartThemes[g.smartCount%len(smartThemes)]
		round := g.smartCount / len(smartThemes)
		g.smartCount++
		c.Title, c.Rules = theme.title, []Rule{{"TAG", "EQUALS", theme.tag}}
		if theme.alternativeTag != "" {
			c.Disjunctive = true
			c.Rules = append(c.Rules, Rule{"TAG", "EQUALS", theme.alternativeTag})
		}
		if round > 0 {
			c.Title = fmt.Sprintf("%s %d", c.Title, round+1)
			for k := range c.Rules {
				c.Rules[k].Condition = fmt.Sprintf("%s-%d", c.Rules[k].Condition, round+1)
			}
		}
		c.SortOrder = pick(g, []string{"BEST_SELLING", "CREATED_DESC", "PRICE_ASC", "ALPHA_ASC"})
	} else {
		c.Title = customThemes[g.customCount%len(customThemes)]
		if round := g.customCount / len(customThemes); round > 0 {
			c.Title = fmt.Sprintf("%s %d", c.Title, round+1)
		}
		g.customCount++
		c.SortOrder = pick(g, []string{"MANUAL", "MANUAL", "BEST_SELLING", "ALPHA_ASC"})
	}
	c.Handle = g.handle(c.Title)
	if g.rng.IntN(2) == 0 {
		c.Image = &Image{ID: g.nextImageID, File: "collection-" + c.Handle, Alt: c.Title, Width: 960, Height: 480, Version: 1}
		g.nextImageID++
	}
	from := seedEnd.AddDate(-2, 0, 0)
	c.UpdatedAt = from.Add(g.duration(seedEnd.Sub(from)))
	return c
}

// placeInCollections puts each product in 1 to 3 collections: a custom one
// lists it, a smart one gets it through the tag its rules select.
func (g *seeder) placeInCollections(c *Catalog) {
	if len(c.Collections) == 0 {
		return
	}
	for i := range c.Products {
		p := &c.Products[i]
		count := 1 + g.rng.IntN(min(3, len(c.Collections)))
		for _, j := range g.rng.Perm(len(c.Collections))[:count] {
			col := &c.Collections[j]
			if !col.Smart() {
				col.ProductIDs = append(col.ProductIDs, p.ID)
				continue
			}
			tag := col.Rules[0].Condition
			if col.Disjunctive && g.rng.IntN(2) == 0 {
				tag = col.Rules[1].Condition
			}
			p.Tags = append(p.Tags, tag)
		}
		slices.Sort(p.Tags)
		p.Tags = slices.Compact(p.Tags)
	}
}
